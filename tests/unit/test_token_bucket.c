/*
 * The SDK's token bucket (include/modvmm/token_bucket.h): full at start,
 * debt, exact tenths, the cap, unlimited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <modvmm/token_bucket.h>

static void test_starts_full_and_refills_in_ten_steps(void **s)
{
	struct mvm_bucket b;

	(void)s;
	mvm_bucket_init(&b, 7, 0);
	assert_int_equal(b.refill_ns, 1000000000ULL);
	assert_int_equal(mvm_bucket_step_ns(&b), 100000000ULL);
	assert_true(mvm_bucket_full(&b));
	mvm_bucket_take(&b, 7);
	assert_false(mvm_bucket_ready(&b));
	/* 0.7 of a token a step: ready after the second, full after ten. */
	mvm_bucket_refill_step(&b);
	assert_true(mvm_bucket_ready(&b));
	for (int i = 1; i < 9; i++)
		mvm_bucket_refill_step(&b);
	assert_false(mvm_bucket_full(&b));
	mvm_bucket_refill_step(&b);
	assert_true(mvm_bucket_full(&b));
	mvm_bucket_refill_step(&b);
	assert_int_equal(b.tenths, 70);
}

static void test_a_large_request_leaves_debt(void **s)
{
	struct mvm_bucket b;

	(void)s;
	mvm_bucket_init(&b, 1000, 100);
	assert_int_equal(mvm_bucket_step_ns(&b), 10000000ULL);
	assert_true(mvm_bucket_ready(&b));
	mvm_bucket_take(&b, 3000); /* served: the bucket held tokens */
	assert_false(mvm_bucket_ready(&b));
	/* 2,000 tokens of debt take twenty steps to pay, then one more. */
	for (int i = 0; i < 20; i++)
		mvm_bucket_refill_step(&b);
	assert_false(mvm_bucket_ready(&b));
	mvm_bucket_refill_step(&b);
	assert_true(mvm_bucket_ready(&b));
}

static void test_debt_and_sizes_are_capped(void **s)
{
	struct mvm_bucket b;

	(void)s;
	mvm_bucket_init(&b, UINT64_MAX, 1);
	assert_true(mvm_bucket_full(&b));
	mvm_bucket_take(&b, UINT64_MAX);
	mvm_bucket_take(&b, UINT64_MAX);
	mvm_bucket_take(&b, UINT64_MAX);
	assert_true(b.tenths >= -(int64_t)MVM_BUCKET_CAP * 10);
	assert_false(mvm_bucket_ready(&b));
	/* A 1 ms period still steps every 100 us, never 0. */
	assert_int_equal(mvm_bucket_step_ns(&b), 100000ULL);
}

static void test_size_zero_is_unlimited(void **s)
{
	struct mvm_bucket b;

	(void)s;
	mvm_bucket_init(&b, 0, 1000);
	mvm_bucket_take(&b, 1ULL << 40);
	assert_true(mvm_bucket_ready(&b));
	assert_true(mvm_bucket_full(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_full_and_refills_in_ten_steps),
		cmocka_unit_test(test_a_large_request_leaves_debt),
		cmocka_unit_test(test_debt_and_sizes_are_capped),
		cmocka_unit_test(test_size_zero_is_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
