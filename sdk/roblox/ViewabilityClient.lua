-- ViewabilityClient: a LocalScript (StarterPlayerScripts) that measures each ad the server announces and
-- reports it through ReplicatedStorage.AdPlatformReports. Runs on Roblox clients only (not in the test suite).
local Players = game:GetService("Players")
local RunService = game:GetService("RunService")
local ReplicatedStorage = game:GetService("ReplicatedStorage")
local CollectionService = game:GetService("CollectionService")

local remote = ReplicatedStorage:WaitForChild("AdPlatformReports")
local camera = workspace.CurrentCamera
local shown = {} -- decision_id -> { parts, onScreenSince, reported }
local SAMPLES = 3 -- 3 x 3 raycast grid per part

local function measure(part)
	local size, cf = part.Size, part.CFrame
	local corners, minX, minY, maxX, maxY = 0, math.huge, math.huge, -math.huge, -math.huge
	for _, sx in ipairs({ -0.5, 0.5 }) do
		for _, sy in ipairs({ -0.5, 0.5 }) do
			local point = cf * Vector3.new(sx * size.X, sy * size.Y, -0.5 * size.Z)
			local screen, inView = camera:WorldToViewportPoint(point)
			if inView then
				corners = corners + 1
			end
			minX = math.min(minX, screen.X)
			maxX = math.max(maxX, screen.X)
			minY = math.min(minY, screen.Y)
			maxY = math.max(maxY, screen.Y)
		end
	end
	local viewport = camera.ViewportSize
	local w = math.max(0, math.min(maxX, viewport.X) - math.max(minX, 0))
	local h = math.max(0, math.min(maxY, viewport.Y) - math.max(minY, 0))
	local coverage = (w * h) / (viewport.X * viewport.Y)
	local params = RaycastParams.new()
	params.FilterType = Enum.RaycastFilterType.Exclude
	params.FilterDescendantsInstances = { Players.LocalPlayer.Character }
	local visible = 0
	for i = 1, SAMPLES do
		for j = 1, SAMPLES do
			local target = cf * Vector3.new((i / (SAMPLES + 1) - 0.5) * size.X, (j / (SAMPLES + 1) - 0.5) * size.Y,
				-0.5 * size.Z)
			local origin = camera.CFrame.Position
			local hit = workspace:Raycast(origin, (target - origin) * 1.01, params)
			local _, inView = camera:WorldToViewportPoint(target)
			if inView and hit and hit.Instance == part then
				visible = visible + 1
			end
		end
	end
	local toCamera = (camera.CFrame.Position - cf.Position).Unit
	local normal = -cf.LookVector -- the Front face
	local angle = math.deg(math.acos(math.clamp(toCamera:Dot(normal), -1, 1)))
	return coverage, visible / (SAMPLES * SAMPLES), angle
end

remote.OnClientEvent:Connect(function(message)
	if message.type == "show" then
		shown[message.decision_id] = {
			parts = CollectionService:GetTagged("AdPlatform:" .. tostring(message.placement)),
			reported = false,
		}
	end
end)

RunService.Heartbeat:Connect(function()
	for decisionId, ad in pairs(shown) do
		if not ad.reported then
			local best = nil
			for _, part in ipairs(ad.parts) do
				local coverage, visible, angle = measure(part)
				if coverage >= 0.015 and visible >= 0.5 and angle <= 55 then
					best = { coverage, visible, angle }
				end
			end
			if best == nil then
				ad.onScreenSince = nil
			elseif ad.onScreenSince == nil then
				ad.onScreenSince = os.clock()
			elseif os.clock() - ad.onScreenSince >= 1.05 then
				ad.reported = true
				remote:FireServer({
					type = "view",
					decision_id = decisionId,
					viewability = {
						duration_ms = math.floor((os.clock() - ad.onScreenSince) * 1000),
						screen_coverage = best[1],
						visible_fraction = best[2],
						angle_deg = best[3],
					},
				})
			end
		end
	end
end)
