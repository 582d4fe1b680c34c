/* bcryptprimitives.dll for Wine 8.0, which lacks it: Go >= 1.24 loads
 * ProcessPrng from it at start-up and dies without it. RtlGenRandom
 * (advapi32's SystemFunction036) is the same CSPRNG older Go used. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(buf, n)) return FALSE;
		buf += n;
		len -= n;
	}
	return TRUE;
}
