#include "textflag.h"

// func addr(a uintptr)
TEXT ·addr(SB), NOSPLIT, $0-8
	MOVD	a+0(FP), R0
	PRFM	(R0), PLDL1KEEP
	RET
