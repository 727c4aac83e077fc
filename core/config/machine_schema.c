#include "config/machine_schema.h"

#include <string.h>

#include "layout.h"

struct mem_opts {
	uint64_t size;
	bool shared;
	bool hugepages;
	bool thp;
};

static const struct mvm_option mem_spec[] = {
	MVM_OPTION_RANGE("size", MVM_OPT_SIZE, struct mem_opts, size, NULL,
			 false, LAYOUT_MIN_MEM, LAYOUT_MAX_MEM, "guest RAM"),
	MVM_OPTION("shared", MVM_OPT_BOOL, struct mem_opts, shared, NULL, false,
		   "memfd-backed, shareable RAM"),
	MVM_OPTION("hugepages", MVM_OPT_BOOL, struct mem_opts, hugepages, NULL,
		   false, "back RAM with huge pages"),
	MVM_OPTION("thp", MVM_OPT_BOOL, struct mem_opts, thp, NULL, false,
		   "ask for transparent huge pages (default on)"),
	MVM_OPTION_END,
};

static void mem_get(const struct machine_cfg *cfg, void *opts)
{
	struct mem_opts o = {cfg->mem_size, cfg->mem_shared, cfg->mem_hugepages,
			     cfg->mem_thp};

	memcpy(opts, &o, sizeof(o));
}

static void mem_put(struct machine_cfg *cfg, const void *opts)
{
	struct mem_opts o;

	memcpy(&o, opts, sizeof(o));
	cfg->mem_size = o.size;
	cfg->mem_shared = o.shared;
	cfg->mem_hugepages = o.hugepages;
	cfg->mem_thp = o.thp;
}

const struct schema_setting schema_memory = {"memory", mem_spec, mem_get,
					     mem_put};

struct cpu_opts {
	uint64_t boot;
};

static const struct mvm_option cpu_spec[] = {
	MVM_OPTION_RANGE("boot", MVM_OPT_U64, struct cpu_opts, boot, NULL,
			 false, 1, LAYOUT_MAX_CPUS, "vCPUs at boot"),
	MVM_OPTION_END,
};

static void cpu_get(const struct machine_cfg *cfg, void *opts)
{
	struct cpu_opts o = {cfg->cpus};

	memcpy(opts, &o, sizeof(o));
}

static void cpu_put(struct machine_cfg *cfg, const void *opts)
{
	struct cpu_opts o;

	memcpy(&o, opts, sizeof(o));
	cfg->cpus = (unsigned)o.boot;
}

const struct schema_setting schema_cpus = {"cpus", cpu_spec, cpu_get, cpu_put};

_Static_assert(sizeof(struct mem_opts) <= SCHEMA_OPTS_MAX &&
		       sizeof(struct cpu_opts) <= SCHEMA_OPTS_MAX,
	       "SCHEMA_OPTS_MAX too small");
