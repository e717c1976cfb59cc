/*
 * bcryptprimitives.dll for the Windows test lane under wine.
 *
 * Go's Windows runtime (Go 1.22 and later) loads bcryptprimitives.dll from
 * system32 at start-up and takes all its random bytes from ProcessPrng.
 * Debian 12's wine 8.0 ships no such DLL, so every Go program dies before
 * main. This DLL exports ProcessPrng and fills the buffer from
 * RtlGenRandom (exported by advapi32 as SystemFunction036), which wine
 * serves from the host's random source. Like the real one, it never fails
 * for a caller that asks for less than 4 GiB at a time.
 *
 * test/windows/lane.sh builds it with mingw-w64:
 *   x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll processprng.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	const SIZE_T step = 1u << 30; /* RtlGenRandom takes a ULONG */

	for (SIZE_T done = 0; done < size; done += step) {
		SIZE_T n = size - done < step ? size - done : step;
		if (!SystemFunction036(data + done, (ULONG)n))
			return FALSE;
	}
	return TRUE;
}
