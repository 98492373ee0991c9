

func.func @f() attributes {s = #qnt.scheme<fp4, codebook = [1.0e39, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]>} { return }
