//go:build amd64 && !purego

#include "textflag.h"

// func aesCTRKeystream(rk *byte, nr int, ctr uint64, dst *byte, groups int)
//
// Writes groups×8 keystream blocks AES(LE128(ctr)), AES(LE128(ctr+1)), …
// to dst: WinZip's little-endian counter (the high 64 bits stay zero).
// Eight blocks are in flight at once so that AES-NI's pipeline stays full.
// rk holds nr+1 round keys of 16 bytes in FIPS-197 byte order.
TEXT ·aesCTRKeystream(SB), NOSPLIT, $0-40
	MOVQ rk+0(FP), AX
	MOVQ nr+8(FP), BX
	MOVQ ctr+16(FP), DX
	MOVQ dst+24(FP), DI
	MOVQ groups+32(FP), CX

group:
	MOVQ AX, R8
	MOVOU (R8), X8
	MOVQ DX, X0
	INCQ DX
	MOVQ DX, X1
	INCQ DX
	MOVQ DX, X2
	INCQ DX
	MOVQ DX, X3
	INCQ DX
	MOVQ DX, X4
	INCQ DX
	MOVQ DX, X5
	INCQ DX
	MOVQ DX, X6
	INCQ DX
	MOVQ DX, X7
	INCQ DX
	PXOR X8, X0
	PXOR X8, X1
	PXOR X8, X2
	PXOR X8, X3
	PXOR X8, X4
	PXOR X8, X5
	PXOR X8, X6
	PXOR X8, X7
	MOVQ BX, R9
	DECQ R9

round:
	ADDQ $16, R8
	MOVOU (R8), X8
	AESENC X8, X0
	AESENC X8, X1
	AESENC X8, X2
	AESENC X8, X3
	AESENC X8, X4
	AESENC X8, X5
	AESENC X8, X6
	AESENC X8, X7
	DECQ R9
	JNZ round

	ADDQ $16, R8
	MOVOU (R8), X8
	AESENCLAST X8, X0
	AESENCLAST X8, X1
	AESENCLAST X8, X2
	AESENCLAST X8, X3
	AESENCLAST X8, X4
	AESENCLAST X8, X5
	AESENCLAST X8, X6
	AESENCLAST X8, X7
	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	MOVOU X4, 64(DI)
	MOVOU X5, 80(DI)
	MOVOU X6, 96(DI)
	MOVOU X7, 112(DI)
	ADDQ $128, DI
	DECQ CX
	JNZ group
	RET
