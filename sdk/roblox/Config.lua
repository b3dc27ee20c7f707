-- Config: settings of the SDK. Secrets come from HttpService:GetSecret, never from a place file.
local Config = {}

Config.baseUrl = "https://ads.example.com"
Config.apiKeySecretName = "adplatform_api_key"
Config.signingSecretName = "adplatform_signing_secret"
Config.requestBudgetPerMinute = 450 -- Roblox allows 500 per minute per server; keep a margin
Config.maxAttempts = 4
Config.backoffBase = 1
Config.backoffMax = 30
Config.eventFlushInterval = 5
Config.eventBatchSize = 100
Config.eventMaxBatch = 500
Config.eventQueueLimit = 5000
Config.tokenRefreshMargin = 120
Config.tagPrefix = "AdPlatform:"
Config.reportsPerWindow = 20
Config.reportWindow = 10
Config.segments = {}

-- Hooks a game may replace (tests replace the clock)
Config.now = function()
	return os.time()
end
Config.clock = function()
	return os.clock()
end
Config.sleep = function(seconds)
	if task then
		task.wait(seconds)
	end
end
Config.spawn = function(fn, ...)
	if task then
		return task.spawn(fn, ...)
	end
	return fn(...)
end
Config.random = function()
	return math.random()
end
Config.ageBracket = function(player)
	return "unknown"
end
Config.device = function(player)
	return nil
end

local secrets = {}

local function readSecret(name)
	local HttpService = game:GetService("HttpService")
	local ok, secret = pcall(function()
		return HttpService:GetSecret(name)
	end)
	if not ok or secret == nil then
		error("AdPlatform: secret '" .. name .. "' is missing (Creator Hub > Secrets)", 0)
	end
	return secret
end

function Config.configure(options)
	for key, value in pairs(options or {}) do
		Config[key] = value
	end
	secrets = {}
	return Config
end

-- The API key may be an opaque Secret object: RequestAsync accepts it as a header value unread.
-- The signing secret must be a readable string for HMAC (see README, "Secrets").
function Config.apiKey()
	if Config.apiKeyValue ~= nil then
		return Config.apiKeyValue
	end
	if secrets.apiKey == nil then
		secrets.apiKey = readSecret(Config.apiKeySecretName)
	end
	return secrets.apiKey
end

function Config.signingSecret()
	if Config.signingSecretValue ~= nil then
		return Config.signingSecretValue
	end
	if secrets.signing == nil then
		secrets.signing = readSecret(Config.signingSecretName)
	end
	if type(secrets.signing) ~= "string" then
		-- Live servers return an opaque Secret that only RequestAsync can use; HMAC needs the bytes.
		error("AdPlatform: the signing secret is not readable here; pass signingSecretValue to start()", 0)
	end
	return secrets.signing
end

function Config.serverId()
	local ok, jobId = pcall(function()
		return game.JobId
	end)
	if ok and jobId and jobId ~= "" then
		return jobId
	end
	return "studio"
end

return Config
