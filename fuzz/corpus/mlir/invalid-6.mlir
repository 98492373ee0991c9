

func.func @f() attributes {s = #qnt.scheme<int8, asymmetric, act = int8>} { return }
