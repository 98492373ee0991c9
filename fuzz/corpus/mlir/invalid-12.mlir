

func.func @f() attributes {s = #qnt.scheme<int4, codebook = [0.0, 1.0]>} { return }
