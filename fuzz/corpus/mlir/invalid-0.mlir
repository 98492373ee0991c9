
func.func @f() attributes {s = #qnt.scheme<int3>} { return }
