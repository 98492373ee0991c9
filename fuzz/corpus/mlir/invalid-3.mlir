

func.func @f() attributes {s = #qnt.scheme<nf4, asymmetric>} { return }
