print("jsonrpc-bench: not written yet")
