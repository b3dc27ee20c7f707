-- Viewability: server-side checks of what clients report about the ads they see.
-- Clients measure time on screen, screen coverage, visible fraction (raycasts) and angle, and send them
-- through the RemoteEvent the SDK creates; the server rate-limits, bounds and checks every report.
local Config = require(script.Parent.Config)

local Viewability = {}

Viewability.MIN_DURATION_MS = 1000
Viewability.MIN_COVERAGE = 0.015
Viewability.MIN_VISIBLE = 0.5
Viewability.MAX_ANGLE = 55

local buckets = {} -- userId -> { start, count }

function Viewability.reset()
	buckets = {}
end

function Viewability.allow(player)
	local now = Config.clock()
	local bucket = buckets[player.UserId]
	if bucket == nil or now - bucket.start >= Config.reportWindow then
		bucket = { start = now, count = 0 }
		buckets[player.UserId] = bucket
	end
	if bucket.count >= Config.reportsPerWindow then
		return false
	end
	bucket.count = bucket.count + 1
	return true
end

local function number(value, low, high)
	if type(value) ~= "number" or value ~= value or value < low or value > high then
		return nil
	end
	return value
end

-- Returns a clean viewability table or nil, reason. maxDurationMs bounds the duration by the time the
-- server itself has shown the ad to this player.
function Viewability.sanitize(report, maxDurationMs)
	if type(report) ~= "table" then
		return nil, "not_a_table"
	end
	local duration = number(report.duration_ms, 0, 3600000)
	local coverage = number(report.screen_coverage, 0, 1)
	local visible = number(report.visible_fraction, 0, 1)
	local angle = number(report.angle_deg, 0, 180)
	if duration == nil or coverage == nil or visible == nil or angle == nil then
		return nil, "out_of_bounds"
	end
	if maxDurationMs ~= nil and duration > maxDurationMs then
		return nil, "duration_exceeds_display_time"
	end
	return {
		duration_ms = math.floor(duration),
		screen_coverage = coverage,
		visible_fraction = visible,
		angle_deg = angle,
	}
end

function Viewability.meetsStandard(v)
	return v ~= nil
		and v.duration_ms >= Viewability.MIN_DURATION_MS
		and v.screen_coverage >= Viewability.MIN_COVERAGE
		and v.visible_fraction >= Viewability.MIN_VISIBLE
		and v.angle_deg <= Viewability.MAX_ANGLE
end

-- Creates (once) the RemoteEvent clients report through.
function Viewability.remote()
	local ReplicatedStorage = game:GetService("ReplicatedStorage")
	local remote = ReplicatedStorage:FindFirstChild("AdPlatformReports")
	if remote == nil then
		remote = Instance.new("RemoteEvent")
		remote.Name = "AdPlatformReports"
		remote.Parent = ReplicatedStorage
	end
	return remote
end

return Viewability
