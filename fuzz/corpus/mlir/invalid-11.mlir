

func.func @f() attributes {s = #qnt.scheme<int8, compute = i32>} { return }
