-- wrk script: send DEPTH requests back to back in one write (TechEmpower's pipelined plaintext).
-- Usage: wrk ... -s pipeline.lua URL -- 16
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, nil, { ["Accept"] = "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7",
                                  ["Connection"] = "keep-alive" })
  end
  req = table.concat(r)
end

request = function()
  return req
end
