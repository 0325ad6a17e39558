-- wrk script for the price API cases. Environment: CASE (get1 | get50 | quote100), TOKEN,
-- PRODUCTS and CUSTOMERS (how many the seed made). Each request picks a random customer and
-- random SKUs, so the database sees a realistic spread instead of one hot row.
local case = os.getenv("CASE") or "get1"
local token = os.getenv("TOKEN") or ""
local products = tonumber(os.getenv("PRODUCTS") or "100000")
local customers = tonumber(os.getenv("CUSTOMERS") or "2000")

wrk.headers["Authorization"] = "Token " .. token
wrk.headers["Accept"] = "application/json"
local post_headers = {["Authorization"] = "Token " .. token, ["Accept"] = "application/json",
                      ["Content-Type"] = "application/json"}

local function sku()
  return string.format("BENCH-%06d", math.random(1, products))
end

local function customer()
  return string.format("BC-%04d", math.random(1, customers))
end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  if case == "bare" then
    return wrk.format("GET", "/bench/bare/")
  elseif case == "get1" then
    return wrk.format("GET", "/api/v1/prices/?customer=" .. customer() .. "&sku=" .. sku())
  elseif case == "get50" then
    local parts = {}
    for i = 1, 50 do parts[i] = "sku=" .. sku() end
    return wrk.format("GET", "/api/v1/prices/?customer=" .. customer() .. "&" .. table.concat(parts, "&"))
  elseif case == "quote100" then
    local lines = {}
    for i = 1, 100 do
      lines[i] = string.format('{"sku":"%s","quantity":%d}', sku(), math.random(1, 60))
    end
    local body = '{"customer":"' .. customer() .. '","lines":[' .. table.concat(lines, ",") .. ']}'
    -- wrk.format uses the headers it is given instead of wrk.headers: repeat the token here.
    return wrk.format("POST", "/api/v1/prices/quote/", post_headers, body)
  end
end
