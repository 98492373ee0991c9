

func.func @f() attributes {s = #qnt.scheme<int8, outlier_threshold = 6.0>} { return }
