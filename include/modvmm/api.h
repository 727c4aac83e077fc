/*
 * modvmm plugin SDK: control-API commands and events.
 *
 * The core serves a control socket speaking QEMU's QMP (docs/api.md). A
 * plugin adds its own commands to it and emits its own events through the
 * table below, reached as `host->api` (NULL on a core without a control
 * API; check MVM_HOST_HAS(host, api), then MVM_HOST_HAS(host->api, ...) for
 * the function you use).
 *
 * JSON crosses this ABI as text, never as a library's objects: a plugin
 * needs no JSON library and is not tied to the one the core links. Argument
 * accessors (arg_u64, arg_size, ...) cover the usual cases; `args_json`
 * gives the whole arguments object, as compact JSON text, for the rest.
 *
 * Threads and locking: command handlers run on the event-loop thread with
 * the device lock held, like every other callback. `emit_event` may be
 * called from any thread, with or without the device lock.
 */
#ifndef MODVMM_API_H
#define MODVMM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One command invocation; valid only during the handler call. */
typedef struct mvm_api_call mvm_api_call;

/** Register the name exactly as given instead of "<device>.<name>": for
 *  QEMU-compatible names (`balloon`, `query-balloon`). -EEXIST if taken. */
#define MVM_API_CMD_GLOBAL (1u << 0)

/**
 * A command a plugin adds. The core copies every member at registration,
 * so the struct may live on the stack.
 */
struct mvm_api_command {
	/** sizeof(struct mvm_api_command) as the plugin was built. */
	uint32_t size;
	/** MVM_API_CMD_* flags. */
	uint32_t flags;
	/** Short name, [a-z0-9_-]+ ("set"). Exposed as "<device>.<name>"
	 *  ("balloon.set"), or as given with MVM_API_CMD_GLOBAL. */
	const char *name;
	/** The arguments, one line, shown by `help`:
	 *  "value: size (bytes, or a string with K/M/G/T)". NULL: none. */
	const char *args_help;
	/** One line saying what the command does. */
	const char *help;
	/**
	 * Runs the command. Event-loop thread, device lock held. Read the
	 * arguments with the accessors, set the result with `reply_json`
	 * (default: the empty object {}) and return 0; or call `error` and
	 * return a negative errno (without `error`, strerror of it is sent).
	 */
	int (*handler)(void *opaque, mvm_api_call *call);
};

/**
 * The control-API services. Every accessor returns 0 when the argument is
 * there and of the right type, -ENOENT when it is absent (the caller
 * decides if that is an error) and -EINVAL when it has the wrong type or
 * value; on -EINVAL the core has already recorded a QMP-style error
 * ("Parameter 'value' expects a size"), so a handler may simply return it.
 */
struct mvm_api_host {
	/** sizeof(struct mvm_api_host) as built by the core. */
	uint32_t size;

	/** Add a command. Only from `create` or `start`. -EEXIST if the name
	 *  is taken, -EINVAL if it is malformed. */
	int (*register_command)(mvm_dev *dev, const struct mvm_api_command *cmd,
				void *opaque);

	/** The arguments object as compact JSON text ("{}" if none). */
	const char *(*args_json)(mvm_api_call *call);
	/** JSON string. *out stays valid until the handler returns. */
	int (*arg_str)(mvm_api_call *call, const char *key, const char **out);
	/** Non-negative JSON integer. */
	int (*arg_u64)(mvm_api_call *call, const char *key, uint64_t *out);
	/** JSON true/false. */
	int (*arg_bool)(mvm_api_call *call, const char *key, bool *out);
	/** Non-negative integer (bytes), or a string with an optional
	 *  K/M/G/T suffix (powers of 1024): 1073741824, "1G", "512M". */
	int (*arg_size)(mvm_api_call *call, const char *key, uint64_t *out);

	/** Set the result from JSON text (any JSON value). -EINVAL if the
	 *  text is not valid JSON (the reply then says so). */
	int (*reply_json)(mvm_api_call *call, const char *json);
	/** Record the error sent instead of a result; `cls` is a QMP error
	 *  class ("GenericError", "DeviceNotActive", ...) or NULL for
	 *  GenericError. The handler then returns a negative errno. */
	void (*error)(mvm_api_call *call, const char *cls, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/**
	 * Send an event to every connected client. `name` is either the
	 * device's own event, lower case like a command name ("changed",
	 * sent as "<device>.changed", e.g. "balloon.changed"), or a QMP-wide
	 * name in QMP's style (upper case, "BALLOON_CHANGE"), sent as given.
	 * `data_json` is a JSON object as text or NULL for none. The core adds
	 * the timestamp and the emitting device's name as data member "device"
	 * unless the object has one. Any thread. -EINVAL if data_json is not a
	 * JSON object.
	 */
	int (*emit_event)(mvm_dev *dev, const char *name,
			  const char *data_json);
};

#ifdef __cplusplus
}
#endif

#endif /* MODVMM_API_H */
