

func.func @f() attributes {s = #qnt.scheme<nf4, group = 64, act = int8>} { return }
