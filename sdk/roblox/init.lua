-- AdPlatform SDK entry point: require(ServerScriptService.AdPlatform).start({ baseUrl = "https://..." })
local Config = require(script.Config)
local Http = require(script.Http)
local Events = require(script.Events)
local Ads = require(script.Ads)
local Scores = require(script.Scores)
local Viewability = require(script.Viewability)

local AdPlatform = {
	Config = Config,
	Http = Http,
	Events = Events,
	Ads = Ads,
	Scores = Scores,
	Viewability = Viewability,
	Hmac = require(script.Hmac),
	Sha256 = require(script.Sha256),
}

local started = false

function AdPlatform.start(options)
	if started then
		return AdPlatform
	end
	started = true
	Config.configure(options)
	local Players = game:GetService("Players")

	Ads.loadContainers()
	Viewability.remote().OnServerEvent:Connect(function(player, message)
		Ads.handleReport(player, message)
	end)

	local function joined(player)
		Config.spawn(function()
			Scores.token(player)
		end)
		Config.spawn(function()
			Ads.onPlayerAdded(player)
		end)
	end
	Players.PlayerAdded:Connect(joined)
	for _, player in ipairs(Players:GetPlayers()) do
		joined(player)
	end
	Players.PlayerRemoving:Connect(function(player)
		Ads.onPlayerRemoving(player)
		Scores.forget(player, true)
	end)

	Events.start()
	Config.spawn(function()
		while started do
			Config.sleep(30)
			Scores.refreshAll()
		end
	end)
	Config.spawn(function()
		while started do
			Config.sleep(60) -- the platform makes owner changes visible within 5 s; a minute is cheap
			Ads.loadContainers()
		end
	end)
	return AdPlatform
end

function AdPlatform.award(player, actionType, actionId)
	return Scores.award(player, actionType, actionId)
end

function AdPlatform.stop()
	started = false
	Events.stop()
	Events.flush()
end

return AdPlatform
