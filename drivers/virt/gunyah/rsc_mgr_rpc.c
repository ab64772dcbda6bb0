// SPDX-License-Identifier: GPL-2.0-only
/*
 * Messages to the Gunyah resource manager: each call builds the payload
 * the RM expects, sends it through the registered transport and reads the
 * reply.  No memory is touched here; see vm_mgr.c for what is lent.
 */

#include <linux/errno.h>
#include <linux/export.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "rsc_mgr.h"

/**
 * gunyah_rm_errno - the errno for an error code of the RM
 * @rm_error: enum gunyah_rm_error of a reply.
 *
 * Memory in use (the VM has not released a parcel) is -EBUSY, as is a
 * busy RM, so that a caller can tell "try again later" from a bad request
 * (-EINVAL).
 *
 * Context: Any context.
 * Return: 0 for %GUNYAH_RM_ERROR_OK, a negative errno otherwise.
 */
int gunyah_rm_errno(u32 rm_error)
{
	switch (rm_error) {
	case GUNYAH_RM_ERROR_OK:
		return 0;
	case GUNYAH_RM_ERROR_UNIMPLEMENTED:
		return -EOPNOTSUPP;
	case GUNYAH_RM_ERROR_NOMEM:
		return -ENOMEM;
	case GUNYAH_RM_ERROR_NORESOURCE:
		return -ENODEV;
	case GUNYAH_RM_ERROR_DENIED:
		return -EPERM;
	case GUNYAH_RM_ERROR_BUSY:
	case GUNYAH_RM_ERROR_MEM_INUSE:
		return -EBUSY;
	case GUNYAH_RM_ERROR_INVALID:
	case GUNYAH_RM_ERROR_ARGUMENT_INVALID:
	case GUNYAH_RM_ERROR_HANDLE_INVALID:
	case GUNYAH_RM_ERROR_VALIDATE_FAILED:
	case GUNYAH_RM_ERROR_MAP_FAILED:
	case GUNYAH_RM_ERROR_MEM_INVALID:
	case GUNYAH_RM_ERROR_MEM_RELEASED:
	case GUNYAH_RM_ERROR_VMID_INVALID:
	case GUNYAH_RM_ERROR_LOOKUP_FAILED:
		return -EINVAL;
	default:
		return -EBADMSG;
	}
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_errno);

/* One call; the reply must be exactly @resp_size bytes (0: none). */
static int gunyah_rm_call(struct gunyah_rm *rm, u32 msg_id, const void *req,
			  size_t req_size, void *resp, size_t resp_size)
{
	size_t got = 0;
	void *reply = NULL;
	int ret;

	ret = rm->ops->call(rm->priv, msg_id, req, req_size, &reply, &got);
	if (ret > 0)
		return gunyah_rm_errno(ret);
	if (ret)
		return ret;
	if (got != resp_size)
		ret = -EBADMSG;
	else if (resp_size)
		memcpy(resp, reply, resp_size);
	kfree(reply);
	return ret;
}

static int gunyah_rm_vm_common(struct gunyah_rm *rm, u32 msg_id, u16 vmid)
{
	struct gunyah_rm_vm_common_req req = { .vmid = cpu_to_le16(vmid) };

	return gunyah_rm_call(rm, msg_id, &req, sizeof(req), NULL, 0);
}

/* Returns 0 with a new VMID in *@vmid, or an errno. */
int gunyah_rm_alloc_vmid(struct gunyah_rm *rm, u16 *vmid)
{
	struct gunyah_rm_vm_common_req req = { .vmid = 0 };	/* any */
	struct gunyah_rm_vm_alloc_vmid_resp resp;
	int ret;

	ret = gunyah_rm_call(rm, GUNYAH_RM_RPC_VM_ALLOC_VMID, &req, sizeof(req),
			     &resp, sizeof(resp));
	if (!ret)
		*vmid = le16_to_cpu(resp.vmid);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_alloc_vmid);

int gunyah_rm_dealloc_vmid(struct gunyah_rm *rm, u16 vmid)
{
	return gunyah_rm_vm_common(rm, GUNYAH_RM_RPC_VM_DEALLOC_VMID, vmid);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_dealloc_vmid);

int gunyah_rm_vm_start(struct gunyah_rm *rm, u16 vmid)
{
	return gunyah_rm_vm_common(rm, GUNYAH_RM_RPC_VM_START, vmid);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_vm_start);

/* A forced stop: the VM gives up whatever it had accepted. */
int gunyah_rm_vm_stop(struct gunyah_rm *rm, u16 vmid)
{
	struct gunyah_rm_vm_stop_req req = {
		.vmid = cpu_to_le16(vmid),
		.flags = GUNYAH_RM_VM_STOP_FLAG_FORCE,
		.stop_reason = cpu_to_le32(GUNYAH_RM_VM_STOP_REASON_FORCE),
	};

	return gunyah_rm_call(rm, GUNYAH_RM_RPC_VM_STOP, &req, sizeof(req),
			      NULL, 0);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_vm_stop);

/* The VMID of the caller (the host) in the RM's namespace. */
int gunyah_rm_get_vmid(struct gunyah_rm *rm, u16 *vmid)
{
	__le32 resp;
	int ret;

	ret = gunyah_rm_call(rm, GUNYAH_RM_RPC_VM_GET_VMID, NULL, 0, &resp,
			     sizeof(resp));
	if (!ret)
		*vmid = le32_to_cpu(resp) & U16_MAX;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_get_vmid);

static void gunyah_rm_put_mem_list(void *p,
				   const struct gunyah_rm_mem_range *ranges,
				   unsigned int nr)
{
	struct gunyah_rm_list_hdr *hdr = p;
	struct gunyah_rm_mem_entry *e = p + sizeof(*hdr);
	unsigned int i;

	hdr->n_entries = cpu_to_le16(nr);
	for (i = 0; i < nr; i++) {
		e[i].phys_addr = cpu_to_le64(ranges[i].phys);
		e[i].size = cpu_to_le64(ranges[i].size);
	}
}

/* MEM_APPEND of @nr more ranges to the parcel @handle. */
static int gunyah_rm_mem_append(struct gunyah_rm *rm, u32 handle,
				const struct gunyah_rm_mem_range *ranges,
				unsigned int nr, bool end)
{
	struct gunyah_rm_mem_append_req_header *req;
	size_t size;
	int ret;

	size = sizeof(*req) + sizeof(struct gunyah_rm_list_hdr) +
	       nr * sizeof(struct gunyah_rm_mem_entry);
	req = kzalloc(size, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	req->mem_handle = cpu_to_le32(handle);
	req->flags = end ? GUNYAH_RM_MEM_APPEND_FLAG_END : 0;
	gunyah_rm_put_mem_list(req + 1, ranges, nr);
	ret = gunyah_rm_call(rm, GUNYAH_RM_RPC_MEM_APPEND, req, size, NULL, 0);
	kfree(req);
	return ret;
}

/**
 * gunyah_rm_mem_give - lend or share memory with a VM
 * @rm: The resource manager.
 * @lend: Lend (the VM alone gets access) or share (the host keeps it).
 * @vmid: The VM.
 * @perms: GUNYAH_RM_ACL_* rights of the VM.
 * @host_vmid: The host's VMID, which a share lists with all rights.
 * @label: The parcel's label, chosen by the caller.
 * @ranges: Host physical ranges, page aligned.
 * @nr: Number of @ranges, at least one.
 * @handle: Set to the parcel's handle on success.
 *
 * Sends MEM_LEND or MEM_SHARE with up to %GUNYAH_RM_MAX_MEM_ENTRIES
 * ranges, and MEM_APPEND for the rest; a parcel that cannot be completed
 * is reclaimed.  *@handle is set whenever the RM has a parcel: on success,
 * and on a failure after which the RM would not give it back.  It is
 * %GUNYAH_MEM_HANDLE_INVAL otherwise.
 *
 * Context: Process context, may sleep.
 * Return: 0, or an errno.
 */
int gunyah_rm_mem_give(struct gunyah_rm *rm, bool lend, u16 vmid, u8 perms,
		       u16 host_vmid, u32 label,
		       const struct gunyah_rm_mem_range *ranges,
		       unsigned int nr, u32 *handle)
{
	unsigned int n_acl = lend ? 1 : 2, first, done;
	struct gunyah_rm_mem_share_req_header *req;
	struct gunyah_rm_mem_acl_entry *acl;
	struct gunyah_rm_list_hdr *hdr;
	__le32 resp;
	size_t size;
	int ret;

	*handle = GUNYAH_MEM_HANDLE_INVAL;
	if (!nr)
		return -EINVAL;
	first = min_t(unsigned int, nr, GUNYAH_RM_MAX_MEM_ENTRIES);
	size = sizeof(*req) + 3 * sizeof(*hdr) + n_acl * sizeof(*acl) +
	       first * sizeof(struct gunyah_rm_mem_entry);
	req = kzalloc(size, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	req->mem_type = GUNYAH_RM_MEM_TYPE_NORMAL;
	req->flags = first < nr ? GUNYAH_RM_MEM_SHARE_FLAG_APPEND : 0;
	req->label = cpu_to_le32(label);
	hdr = (void *)(req + 1);
	hdr->n_entries = cpu_to_le16(n_acl);
	acl = (void *)(hdr + 1);
	acl[0].vmid = cpu_to_le16(vmid);
	acl[0].perms = perms;
	if (!lend) {
		acl[1].vmid = cpu_to_le16(host_vmid);
		acl[1].perms = GUNYAH_RM_ACL_R | GUNYAH_RM_ACL_W |
			       GUNYAH_RM_ACL_X;
	}
	gunyah_rm_put_mem_list(&acl[n_acl], ranges, first);
	/* The attribute list stays empty (zeroed). */
	ret = gunyah_rm_call(rm, lend ? GUNYAH_RM_RPC_MEM_LEND :
				 GUNYAH_RM_RPC_MEM_SHARE,
			     req, size, &resp, sizeof(resp));
	kfree(req);
	if (ret)
		return ret;
	*handle = le32_to_cpu(resp);

	for (done = first; done < nr; done += first) {
		first = min_t(unsigned int, nr - done,
			      GUNYAH_RM_MAX_MEM_ENTRIES);
		ret = gunyah_rm_mem_append(rm, *handle, &ranges[done], first,
					   done + first == nr);
		if (ret) {
			/*
			 * Unfinished: nothing was given yet, take it back.
			 * If the RM keeps it, the caller keeps the handle.
			 */
			if (!gunyah_rm_mem_reclaim(rm, *handle))
				*handle = GUNYAH_MEM_HANDLE_INVAL;
			return ret;
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_mem_give);

/**
 * gunyah_rm_mem_reclaim - take a lent or shared parcel back
 * @rm: The resource manager.
 * @handle: The parcel.
 *
 * Context: Process context, may sleep.
 * Return: 0 when the host owns the memory again; -EBUSY while the VM
 * still holds the parcel; another errno.
 */
int gunyah_rm_mem_reclaim(struct gunyah_rm *rm, u32 handle)
{
	struct gunyah_rm_mem_release_req req = {
		.mem_handle = cpu_to_le32(handle),
	};

	return gunyah_rm_call(rm, GUNYAH_RM_RPC_MEM_RECLAIM, &req, sizeof(req),
			      NULL, 0);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_rm_mem_reclaim);
