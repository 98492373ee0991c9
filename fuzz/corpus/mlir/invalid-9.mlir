

func.func @f() attributes {s = #qnt.scheme<int8, act = int8, outlier_threshold = -1.0>} { return }
