-- Events: a queue of engagement events sent to POST /api/v1/events in batches.
-- Each event gets its event_id when queued; a batch that fails is put back with the same ids, so a retry
-- is counted once by the platform.
local Config = require(script.Parent.Config)
local Http = require(script.Parent.Http)

local Events = {}

local queue = {}
local running = false
local flushing = false
Events.dropped = 0
Events.lastResult = nil

local function isoNow()
	local t = os.date("!*t", Config.now())
	return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.month, t.day, t.hour, t.min, t.sec)
end
Events.isoNow = isoNow

function Events.newId()
	local HttpService = game:GetService("HttpService")
	return string.lower(HttpService:GenerateGUID(false))
end

function Events.size()
	return #queue
end

function Events.reset()
	queue = {}
	Events.dropped = 0
end

-- event: { type, decision_id, tracking_token, player_id, viewability?, metadata? }
function Events.track(event)
	if event.event_id == nil then
		event.event_id = Events.newId()
	end
	if event.occurred_at == nil then
		event.occurred_at = isoNow()
	end
	if #queue >= Config.eventQueueLimit then
		table.remove(queue, 1)
		Events.dropped = Events.dropped + 1
	end
	queue[#queue + 1] = event
	if running and #queue >= Config.eventBatchSize then
		Config.spawn(Events.flush)
	end
	return event.event_id
end

-- Sends one batch (at most eventMaxBatch); returns true when the platform took it.
function Events.flushOnce()
	if #queue == 0 then
		return true
	end
	local size = math.min(#queue, Config.eventMaxBatch)
	local batch = {}
	for i = 1, size do
		batch[i] = queue[i]
	end
	local rest = {}
	for i = size + 1, #queue do
		rest[#rest + 1] = queue[i]
	end
	queue = rest
	local response = Http.postJson("/api/v1/events", { events = batch, server_id = Config.serverId() })
	Events.lastResult = response
	if response.status == 202 or (response.ok and response.status < 300) then
		return true
	end
	if response.status == 413 or response.status == 400 then
		return true -- the batch can never succeed; do not loop on it
	end
	-- put the batch back in front, ids unchanged
	for i = #batch, 1, -1 do
		table.insert(queue, 1, batch[i])
	end
	return false
end

function Events.flush()
	if flushing then
		return false
	end
	flushing = true
	local ok = true
	while #queue > 0 do
		local success, sent = pcall(Events.flushOnce)
		if not success or not sent then
			ok = false
			break
		end
	end
	flushing = false
	return ok
end

function Events.start()
	if running then
		return
	end
	running = true
	Config.spawn(function()
		while running do
			Config.sleep(Config.eventFlushInterval)
			Events.flush()
		end
	end)
	pcall(function()
		game:BindToClose(function()
			running = false
			Events.flush()
		end)
	end)
end

function Events.stop()
	running = false
end

return Events
