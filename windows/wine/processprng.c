/* bcryptprimitives.dll for Wine < 8.13, which lacks it.
 *
 * The Go runtime (1.22 and later) draws its random numbers from
 * ProcessPrng in bcryptprimitives.dll and stops at start when the DLL is
 * missing. Debian 12's Wine 8.0 has no such DLL; this one provides the
 * single export, filled from advapi32's RtlGenRandom (SystemFunction036),
 * which Wine implements. Built in the test set-up with mingw-w64 and
 * copied into the test's own Wine prefix only; it is never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
