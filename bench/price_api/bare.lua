local target = os.getenv("BARE_PATH") or "/bench/bare/"
request = function()
  return wrk.format("GET", target)
end
