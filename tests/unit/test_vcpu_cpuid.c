/*
 * Guest CPUID topology: each vCPU sees its own APIC id and the true CPU
 * count in the leaves Intel and AMD guests read to number their CPUs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vcpu_cpuid.h"

static struct kvm_cpuid2 *make(void)
{
	static const uint32_t fns[][2] = {
		{1, 0}, {0xb, 0}, {0xb, 1}, {0x80000008, 0}, {0x8000001e, 0}};
	size_t n = sizeof(fns) / sizeof(*fns);
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

	c->nent = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		c->entries[i].function = fns[i][0];
		c->entries[i].index = fns[i][1];
		c->entries[i].ebx = 0xffffffff;
	}
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn,
				     uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void test_leaf1_has_apic_id_count_and_hypervisor_bit(void **s)
{
	struct kvm_cpuid2 *c = make();

	(void)s;
	cpuid_patch(c, 3, 4);
	assert_int_equal(leaf(c, 1, 0)->ebx >> 24, 3);
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 4);
	assert_true(leaf(c, 1, 0)->ecx & (1u << 31));
	free(c);
}

static void test_leaf_b_has_x2apic_id_on_every_subleaf(void **s)
{
	struct kvm_cpuid2 *c = make();

	(void)s;
	cpuid_patch(c, 2, 4);
	assert_int_equal(leaf(c, 0xb, 0)->edx, 2);
	assert_int_equal(leaf(c, 0xb, 1)->edx, 2);
	assert_int_equal(leaf(c, 0xb, 1)->ebx, 4);
	free(c);
}

static void test_amd_leaves_put_all_cpus_in_one_package(void **s)
{
	struct kvm_cpuid2 *c = make();

	(void)s;
	cpuid_patch(c, 1, 4);
	assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xff, 3);
	assert_int_equal((leaf(c, 0x80000008, 0)->ecx >> 12) & 0xf, 2);
	assert_int_equal(leaf(c, 0x8000001e, 0)->eax, 1);
	assert_int_equal(leaf(c, 0x8000001e, 0)->ecx, 0);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_leaf1_has_apic_id_count_and_hypervisor_bit),
		cmocka_unit_test(test_leaf_b_has_x2apic_id_on_every_subleaf),
		cmocka_unit_test(test_amd_leaves_put_all_cpus_in_one_package),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
