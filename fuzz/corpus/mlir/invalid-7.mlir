

func.func @f() attributes {s = #qnt.scheme<int8, compute = bf16, act = int8>} { return }
