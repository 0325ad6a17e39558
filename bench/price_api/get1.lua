-- One random customer, one random SKU, quantity 1.
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format("/api/v1/prices/?customer=BC-%04d&sku=BENCH-%06d", math.random(0, 1999), math.random(0, 99999)))
end
