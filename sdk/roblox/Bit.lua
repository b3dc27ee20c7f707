-- Bit: 32-bit unsigned operations. Uses bit32 when present (Roblox), otherwise a portable Lua 5.1 version
-- built on 4-bit lookup tables.
local Bit = {}

local MOD = 4294967296

local function makeTable(op)
	local t = {}
	for a = 0, 15 do
		t[a] = {}
		for b = 0, 15 do
			local r, mul, x, y = 0, 1, a, b
			for _ = 1, 4 do
				local xa, yb = x % 2, y % 2
				if op(xa, yb) then
					r = r + mul
				end
				x = (x - xa) / 2
				y = (y - yb) / 2
				mul = mul * 2
			end
			t[a][b] = r
		end
	end
	return t
end

local XOR = makeTable(function(a, b)
	return a ~= b
end)
local AND = makeTable(function(a, b)
	return a == 1 and b == 1
end)
local OR = makeTable(function(a, b)
	return a == 1 or b == 1
end)

local function combine(t, a, b)
	a = a % MOD
	b = b % MOD
	local r, mul = 0, 1
	for _ = 1, 8 do
		local na, nb = a % 16, b % 16
		r = r + t[na][nb] * mul
		a = (a - na) / 16
		b = (b - nb) / 16
		mul = mul * 16
	end
	return r
end

local portable = {}

function portable.bxor(a, b, c, ...)
	local r = combine(XOR, a, b)
	if c ~= nil then
		return portable.bxor(r, c, ...)
	end
	return r
end

function portable.band(a, b, c, ...)
	local r = combine(AND, a, b)
	if c ~= nil then
		return portable.band(r, c, ...)
	end
	return r
end

function portable.bor(a, b, c, ...)
	local r = combine(OR, a, b)
	if c ~= nil then
		return portable.bor(r, c, ...)
	end
	return r
end

function portable.bnot(a)
	return MOD - 1 - (a % MOD)
end

function portable.rshift(a, n)
	return math.floor((a % MOD) / 2 ^ n)
end

function portable.lshift(a, n)
	return ((a % MOD) * 2 ^ n) % MOD
end

function portable.rrotate(a, n)
	a = a % MOD
	n = n % 32
	if n == 0 then
		return a
	end
	local low = a % 2 ^ n
	return math.floor(a / 2 ^ n) + low * 2 ^ (32 - n)
end

Bit.portable = portable

local native = bit32 -- a Luau builtin; nil in plain Lua 5.1 (Roblox's _G is not the global environment)
if native ~= nil then
	Bit.bxor = native.bxor
	Bit.band = native.band
	Bit.bor = native.bor
	Bit.bnot = native.bnot
	Bit.rshift = native.rshift
	Bit.lshift = native.lshift
	Bit.rrotate = native.rrotate
else
	for name, fn in pairs(portable) do
		Bit[name] = fn
	end
end

return Bit
