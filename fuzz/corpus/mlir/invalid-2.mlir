

func.func @f() attributes {s = #qnt.scheme<int4, group = -3>} { return }
