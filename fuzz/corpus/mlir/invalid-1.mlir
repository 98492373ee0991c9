

func.func @f() attributes {s = #qnt.scheme<nf4, blocks = 64>} { return }
