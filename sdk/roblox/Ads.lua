-- Ads: containers found by placement (CollectionService tags "AdPlatform:<placement>"), a decision per player
-- and container as players come and go, rendering (DISPLAY on a per-player SurfaceGui, NPC dialogue sent to
-- the client), and viewable impressions / clicks turned into events.
local Config = require(script.Parent.Config)
local Http = require(script.Parent.Http)
local Events = require(script.Parent.Events)
local Viewability = require(script.Parent.Viewability)

local Ads = {}

local containers = {} -- id -> container
local decisions = {} -- userId -> containerId -> entry
local byDecision = {} -- decision_id -> entry
Ads.rejected = {} -- reasons of refused client reports (for tests and debugging)

function Ads.reset()
	containers = {}
	decisions = {}
	byDecision = {}
	Ads.rejected = {}
end

function Ads.loadContainers()
	local found = {}
	local path = "/api/v1/containers?limit=200"
	while path ~= nil do
		local response = Http.getJson(path)
		if response.status ~= 200 or response.json == nil then
			return nil, response
		end
		for _, c in ipairs(response.json.results or {}) do
			found[c.id] = c
		end
		path = response.json.next
	end
	containers = found
	return found
end

function Ads.containers()
	return containers
end

function Ads.instancesFor(container)
	local CollectionService = game:GetService("CollectionService")
	return CollectionService:GetTagged(Config.tagPrefix .. tostring(container.placement))
end

function Ads.playerInfo(player)
	local PolicyService = game:GetService("PolicyService")
	local ok, policy = pcall(function()
		return PolicyService:GetPolicyInfoForPlayerAsync(player)
	end)
	local allowed = ok and type(policy) == "table" and policy.AreAdsAllowed == true
	local bracket = Config.ageBracket(player) or "unknown"
	local info = {
		id = player.UserId,
		ads_allowed = allowed,
		age_bracket = bracket,
		segments = Config.segments,
	}
	local device = Config.device(player)
	if device ~= nil then
		info.device = device
	end
	local okCountry, country = pcall(function()
		return game:GetService("LocalizationService"):GetCountryRegionForPlayerAsync(player)
	end)
	if okCountry and type(country) == "string" and #country == 2 then
		info.country = country
	end
	return info
end

local function renderDisplay(player, entry, instances)
	local gui = {}
	local playerGui = player:FindFirstChild("PlayerGui")
	for _, part in ipairs(instances) do
		local surface = Instance.new("SurfaceGui")
		surface.Name = "AdPlatform_" .. tostring(entry.container.id)
		surface.Adornee = part
		surface.Face = part:GetAttribute("AdFace") or "Front"
		local image = Instance.new("ImageLabel")
		image.Size = UDim2 and UDim2.fromScale(1, 1) or nil
		image.BackgroundTransparency = 1
		image.Image = entry.decision.creative.content
		image.Parent = surface
		surface:SetAttribute("DecisionId", entry.decision.decision_id)
		surface.Parent = playerGui
		gui[#gui + 1] = surface
	end
	return gui
end

local function tell(player, message)
	local remote = Viewability.remote()
	pcall(function()
		remote:FireClient(player, message)
	end)
end

function Ads.decide(player, container, info)
	if container.status ~= "ACTIVE" then
		return nil, "container_" .. string.lower(tostring(container.status))
	end
	local response = Http.postJson("/api/v1/decisions", {
		container_id = container.id,
		player = info or Ads.playerInfo(player),
		server_id = Config.serverId(),
	})
	if response.status ~= 200 or response.json == nil then
		return nil, "http_" .. tostring(response.status)
	end
	local decision = response.json
	if not decision.filled then
		return nil, decision.reason
	end
	Ads.clear(player, container.id)
	local entry = {
		player = player.UserId,
		container = container,
		decision = decision,
		shownAt = Config.clock(),
		impressed = false,
		clicked = false,
	}
	decisions[player.UserId] = decisions[player.UserId] or {}
	decisions[player.UserId][container.id] = entry
	byDecision[decision.decision_id] = entry
	local instances = Ads.instancesFor(container)
	local creative = decision.creative or {}
	if creative.kind == "DISPLAY" then
		entry.gui = renderDisplay(player, entry, instances)
	end
	tell(player, {
		type = "show",
		decision_id = decision.decision_id,
		container_id = container.id,
		kind = creative.kind,
		content = creative.content,
		dialogue = creative.npc and creative.npc.dialogue or nil,
		placement = container.placement,
	})
	return entry
end

function Ads.decisionFor(player, containerId)
	local mine = decisions[player.UserId]
	return mine and mine[containerId]
end

function Ads.clear(player, containerId)
	local mine = decisions[player.UserId]
	if mine == nil then
		return
	end
	for id, entry in pairs(mine) do
		if containerId == nil or id == containerId then
			for _, gui in ipairs(entry.gui or {}) do
				pcall(function()
					gui:Destroy()
				end)
			end
			byDecision[entry.decision.decision_id] = nil
			mine[id] = nil
		end
	end
end

function Ads.onPlayerAdded(player)
	local info = Ads.playerInfo(player)
	local shown = {}
	for _, container in pairs(containers) do
		if container.status == "ACTIVE" and #Ads.instancesFor(container) > 0 then
			local entry = Ads.decide(player, container, info)
			if entry ~= nil then
				shown[#shown + 1] = entry
			end
		end
	end
	return shown
end

function Ads.onPlayerRemoving(player)
	Ads.clear(player, nil)
	decisions[player.UserId] = nil
end

local function reject(player, reason)
	Ads.rejected[#Ads.rejected + 1] = reason
	return false, reason
end

-- A client's report: { type = "view", decision_id, viewability = {...} } or { type = "click", decision_id }.
function Ads.handleReport(player, message)
	if not Viewability.allow(player) then
		return reject(player, "rate_limited")
	end
	if type(message) ~= "table" or type(message.decision_id) ~= "string" then
		return reject(player, "malformed")
	end
	local entry = byDecision[message.decision_id]
	if entry == nil or entry.player ~= player.UserId then
		return reject(player, "unknown_decision")
	end
	local decision = entry.decision
	local base = {
		decision_id = decision.decision_id,
		tracking_token = decision.tracking_token,
		player_id = player.UserId,
	}
	if message.type == "view" then
		if entry.impressed then
			return reject(player, "already_impressed")
		end
		local shownMs = (Config.clock() - entry.shownAt) * 1000 + 250
		local v, reason = Viewability.sanitize(message.viewability, shownMs)
		if v == nil then
			return reject(player, reason)
		end
		if not Viewability.meetsStandard(v) then
			return reject(player, "not_viewable_yet")
		end
		entry.impressed = true
		base.type = "impression"
		base.viewability = v
		return true, Events.track(base)
	elseif message.type == "click" then
		if entry.clicked then
			return reject(player, "already_clicked")
		end
		entry.clicked = true
		base.type = "click"
		local id = Events.track(base)
		if Ads.onClick ~= nil then
			pcall(Ads.onClick, player, decision.creative and decision.creative.click_action, decision)
		end
		return true, id
	end
	return reject(player, "unknown_type")
end

return Ads
