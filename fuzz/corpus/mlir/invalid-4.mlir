

func.func @f() attributes {s = #qnt.scheme<int8, double_quant>} { return }
