

func.func @f() attributes {s = #qnt.scheme<int8, act = int4>} { return }
