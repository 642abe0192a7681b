#include "textflag.h"

// func addr(a uintptr)
TEXT ·addr(SB), NOSPLIT, $0-8
	MOVQ	a+0(FP), AX
	PREFETCHT0	(AX)
	RET
