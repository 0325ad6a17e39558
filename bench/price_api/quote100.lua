-- POST quotes of 100 random (sku, quantity) lines; 200 bodies prepared up front, then cycled.
math.randomseed(42)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
for b = 1, 200 do
  local lines = {}
  for i = 1, 100 do
    lines[i] = string.format('{"sku": "BENCH-%06d", "quantity": %d}', math.random(0, 99999), math.random(1, 40))
  end
  bodies[b] = string.format('{"customer": "BC-%04d", "lines": [%s]}', math.random(0, 1999), table.concat(lines, ", "))
end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", "/api/v1/prices/quote/", nil, bodies[n])
end
