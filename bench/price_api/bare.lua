request = function()
  return wrk.format("GET", "/bench/bare/")
end
