

func.func @f() attributes {s = #qnt.scheme<nf4, codebook = [-1.0, 0.0, 1.0]>} { return }
