-- One random customer, 48 random SKUs (a category page), quantity 1.
math.randomseed(42)
request = function()
  local parts = {string.format("/api/v1/prices/?customer=BC-%04d", math.random(0, 1999))}
  for i = 1, 48 do
    parts[#parts + 1] = string.format("sku=BENCH-%06d", math.random(0, 99999))
  end
  return wrk.format("GET", table.concat(parts, "&"))
end
