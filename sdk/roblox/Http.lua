-- Http: the SDK's one HTTP layer over HttpService:RequestAsync.
-- pcall around every call, retries with backoff on 429/5xx (Retry-After honoured), and a request budget
-- shared by every module so the whole SDK stays under Roblox's 500 requests per minute per server.
local Config = require(script.Parent.Config)

local Http = {}

local window = {} -- send times (Config.clock()) inside the last 60 s, oldest first
Http.stats = { sent = 0, waits = {} }

function Http.reset()
	window = {}
	Http.stats = { sent = 0, waits = {} }
end

local function prune(now)
	local keep = {}
	for _, t in ipairs(window) do
		if now - t < 60 then
			keep[#keep + 1] = t
		end
	end
	window = keep
end

-- Blocks (with Config.sleep) until one more request fits in the budget, then books it.
local function takeBudget()
	local now = Config.clock()
	prune(now)
	while #window >= Config.requestBudgetPerMinute do
		local wait = 60 - (now - window[1]) + 0.01
		Http.stats.waits[#Http.stats.waits + 1] = { reason = "budget", seconds = wait }
		Config.sleep(wait)
		now = Config.clock()
		prune(now)
	end
	window[#window + 1] = now
	Http.stats.sent = Http.stats.sent + 1
end

function Http.remaining()
	prune(Config.clock())
	return Config.requestBudgetPerMinute - #window
end

local function header(headers, name)
	if type(headers) ~= "table" then
		return nil
	end
	local wanted = string.lower(name)
	for key, value in pairs(headers) do
		if string.lower(tostring(key)) == wanted then
			return value
		end
	end
	return nil
end

local function backoff(attempt)
	local base = Config.backoffBase * 2 ^ (attempt - 1)
	local jitter = base * 0.25 * Config.random()
	return math.min(Config.backoffMax, base + jitter)
end

local function url(path)
	if string.sub(path, 1, 4) == "http" then
		return path
	end
	local base = Config.baseUrl
	if string.sub(base, -1) == "/" then
		base = string.sub(base, 1, -2)
	end
	return base .. path
end

-- options: { method, path, body (string), headers, auth = false to skip X-API-Key, retry = false }
-- returns response table { ok, status, body, headers, json, error }
function Http.request(options)
	local HttpService = game:GetService("HttpService")
	local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
	if options.auth ~= false then
		headers["X-API-Key"] = Config.apiKey()
	end
	for key, value in pairs(options.headers or {}) do
		headers[key] = value
	end
	local request = { Url = url(options.path), Method = options.method or "GET", Headers = headers }
	if options.body ~= nil then
		request.Body = options.body
	end
	local attempts = options.retry == false and 1 or Config.maxAttempts
	local result = { ok = false, status = 0 }
	for attempt = 1, attempts do
		takeBudget()
		local ok, response = pcall(function()
			return HttpService:RequestAsync(request)
		end)
		local wait = nil
		if not ok then
			result = { ok = false, status = 0, error = tostring(response) }
			wait = backoff(attempt)
		else
			result = {
				ok = response.Success == true,
				status = response.StatusCode,
				body = response.Body,
				headers = response.Headers,
			}
			if result.body ~= nil and result.body ~= "" then
				local decoded, value = pcall(function()
					return HttpService:JSONDecode(result.body)
				end)
				if decoded then
					result.json = value
				end
			end
			if result.status == 429 or result.status >= 500 then
				local retryAfter = tonumber(header(response.Headers, "Retry-After"))
				if retryAfter ~= nil then
					wait = math.min(math.max(retryAfter, 0), 120)
				else
					wait = backoff(attempt)
				end
			else
				return result
			end
		end
		if attempt < attempts then
			Http.stats.waits[#Http.stats.waits + 1] = { reason = "retry", status = result.status, seconds = wait }
			Config.sleep(wait)
		end
	end
	return result
end

function Http.getJson(path)
	return Http.request({ method = "GET", path = path })
end

function Http.postJson(path, data, extraHeaders)
	local HttpService = game:GetService("HttpService")
	return Http.request({ method = "POST", path = path, body = HttpService:JSONEncode(data), headers = extraHeaders })
end

return Http
