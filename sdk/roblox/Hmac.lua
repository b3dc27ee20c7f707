-- Hmac: HMAC-SHA256 (RFC 2104) on top of Sha256.
local Bit = require(script.Parent.Bit)
local Sha256 = require(script.Parent.Sha256)

local Hmac = {}

local BLOCK = 64

local function xorPad(key, byte)
	local out = {}
	for i = 1, BLOCK do
		out[i] = string.char(Bit.bxor(string.byte(key, i), byte))
	end
	return table.concat(out)
end

function Hmac.sha256(key, message)
	if #key > BLOCK then
		key = Sha256.digest(key)
	end
	key = key .. string.rep("\0", BLOCK - #key)
	local inner = Sha256.digest(xorPad(key, 0x36) .. message)
	return Sha256.digest(xorPad(key, 0x5c) .. inner)
end

function Hmac.sha256Hex(key, message)
	return Sha256.toHex(Hmac.sha256(key, message))
end

return Hmac
