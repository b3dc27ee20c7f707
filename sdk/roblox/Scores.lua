-- Scores: a player token per player (minted on join, refreshed before expiry) and signed score updates.
local Config = require(script.Parent.Config)
local Http = require(script.Parent.Http)
local Hmac = require(script.Parent.Hmac)

local Scores = {}

local tokens = {} -- userId -> { token, expiresAt }

-- "2026-11-21T09:00:00Z" / "+00:00" / fractions -> seconds since the epoch (UTC)
function Scores.parseIso(text)
	local y, mo, d, h, mi, s, rest = string.match(text or "", "^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)(.*)$")
	if y == nil then
		return nil
	end
	y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
	if mo <= 2 then
		y = y - 1
	end
	local era = math.floor(y / 400)
	local yoe = y - era * 400
	local mp = (mo + 9) % 12
	local doy = math.floor((153 * mp + 2) / 5) + d - 1
	local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
	local days = era * 146097 + doe - 719468
	local seconds = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
	local sign, oh, om = string.match(rest, "([%+%-])(%d%d):?(%d%d)$")
	if sign ~= nil then
		local offset = tonumber(oh) * 3600 + tonumber(om) * 60
		if sign == "+" then
			seconds = seconds - offset
		else
			seconds = seconds + offset
		end
	end
	return seconds
end

local function newId()
	local HttpService = game:GetService("HttpService")
	return string.lower((string.gsub(HttpService:GenerateGUID(false), "-", "")))
end

function Scores.mint(player)
	local response = Http.postJson("/api/v1/scores/tokens", { player_id = player.UserId, username = player.Name })
	if response.status ~= 201 or response.json == nil then
		return nil, response
	end
	local entry = {
		token = response.json.token,
		expiresAt = Scores.parseIso(response.json.expires_at) or (Config.now() + 900),
	}
	tokens[player.UserId] = entry
	return entry
end

function Scores.token(player)
	local entry = tokens[player.UserId]
	if entry == nil or entry.expiresAt - Config.now() <= Config.tokenRefreshMargin then
		entry = Scores.mint(player)
	end
	return entry and entry.token
end

function Scores.tokenEntry(player)
	return tokens[player.UserId]
end

-- Refreshes every token that expires within the margin (called by the loop started in init).
function Scores.refreshAll()
	local Players = game:GetService("Players")
	for _, player in ipairs(Players:GetPlayers()) do
		local entry = tokens[player.UserId]
		if entry ~= nil and entry.expiresAt - Config.now() <= Config.tokenRefreshMargin then
			Scores.mint(player)
		end
	end
end

function Scores.forget(player, revoke)
	local entry = tokens[player.UserId]
	tokens[player.UserId] = nil
	if revoke and entry ~= nil then
		Http.postJson("/api/v1/scores/tokens/revoke", { token = entry.token })
	end
end

-- Credits one action; the platform decides the increment. Returns the response json or nil, error code.
function Scores.award(player, actionType, actionId)
	local HttpService = game:GetService("HttpService")
	local action = actionId or newId()
	for attempt = 1, 2 do
		local token = Scores.token(player)
		if token == nil then
			return nil, "token_unavailable"
		end
		local body = HttpService:JSONEncode({
			action_type = actionType,
			action_id = action,
			nonce = newId(),
			timestamp = math.floor(Config.now()),
		})
		local signature = Hmac.sha256Hex(Config.signingSecret(), body)
		local response = Http.request({
			method = "POST",
			path = "/api/v1/scores/update",
			body = body,
			headers = { Authorization = "Bearer " .. token, ["X-Signature"] = signature },
		})
		if response.status == 200 then
			return response.json
		end
		local code = response.json and response.json.error and response.json.error.code or tostring(response.status)
		if attempt == 1 and (code == "token_expired" or code == "token_revoked") then
			tokens[player.UserId] = nil -- mint a fresh token and sign again
		else
			return nil, code, response
		end
	end
	return nil, "token_unavailable"
end

return Scores
