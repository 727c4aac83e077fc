/* Placeholder until the run loop lands; replaced in the next commits. */
#include <stdio.h>
int main(void)
{
	puts("modvmm " MODVMM_VERSION);
	return 0;
}
