-- Sha256: pure Lua SHA-256 (FIPS 180-4) over a byte string; returns the 32-byte digest or hex.
local Bit = require(script.Parent.Bit)

local band, bxor, bnot, rshift, rrotate = Bit.band, Bit.bxor, Bit.bnot, Bit.rshift, Bit.rrotate
local MOD = 4294967296

local K = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function be32(n)
	local b1 = math.floor(n / 16777216) % 256
	local b2 = math.floor(n / 65536) % 256
	local b3 = math.floor(n / 256) % 256
	return string.char(b1, b2, b3, n % 256)
end

local function preprocess(message)
	local length = #message
	local padding = 64 - ((length + 9) % 64)
	if padding == 64 then
		padding = 0
	end
	local bits = length * 8
	local high = math.floor(bits / MOD)
	return message .. "\128" .. string.rep("\0", padding) .. be32(high) .. be32(bits % MOD)
end

local function digestBlock(message, start, H)
	local w = {}
	for j = 0, 15 do
		local a, b, c, d = string.byte(message, start + j * 4, start + j * 4 + 3)
		w[j] = ((a * 256 + b) * 256 + c) * 256 + d
	end
	for j = 16, 63 do
		local v15, v2 = w[j - 15], w[j - 2]
		local s0 = bxor(rrotate(v15, 7), rrotate(v15, 18), rshift(v15, 3))
		local s1 = bxor(rrotate(v2, 17), rrotate(v2, 19), rshift(v2, 10))
		w[j] = (w[j - 16] + s0 + w[j - 7] + s1) % MOD
	end
	local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
	for j = 0, 63 do
		local S1 = bxor(rrotate(e, 6), rrotate(e, 11), rrotate(e, 25))
		local ch = bxor(band(e, f), band(bnot(e), g))
		local temp1 = (h + S1 + ch + K[j + 1] + w[j]) % MOD
		local S0 = bxor(rrotate(a, 2), rrotate(a, 13), rrotate(a, 22))
		local maj = bxor(band(a, b), band(a, c), band(b, c))
		local temp2 = (S0 + maj) % MOD
		h = g
		g = f
		f = e
		e = (d + temp1) % MOD
		d = c
		c = b
		b = a
		a = (temp1 + temp2) % MOD
	end
	H[1] = (H[1] + a) % MOD
	H[2] = (H[2] + b) % MOD
	H[3] = (H[3] + c) % MOD
	H[4] = (H[4] + d) % MOD
	H[5] = (H[5] + e) % MOD
	H[6] = (H[6] + f) % MOD
	H[7] = (H[7] + g) % MOD
	H[8] = (H[8] + h) % MOD
end

local Sha256 = {}

function Sha256.digest(message)
	message = preprocess(message)
	local H = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	}
	for start = 1, #message, 64 do
		digestBlock(message, start, H)
	end
	local out = {}
	for i = 1, 8 do
		out[i] = be32(H[i])
	end
	return table.concat(out)
end

function Sha256.toHex(bytes)
	return (string.gsub(bytes, ".", function(c)
		return string.format("%02x", string.byte(c))
	end))
end

function Sha256.hex(message)
	return Sha256.toHex(Sha256.digest(message))
end

return Sha256
