/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Gunyah resource manager (RM): the messages this driver sends it and
 * the transport that carries them.
 *
 * The message IDs, payload layouts and error codes are the RM's RPC
 * interface (see Documentation/virt/gunyah/).  A transport carries one
 * request payload to the RM and brings its reply back; framing into
 * message-queue packets is the transport's business.  The one transport
 * in this tree is the software RM (gunyah_swrm.c), for tests.
 */
#ifndef _GUNYAH_RSC_MGR_H
#define _GUNYAH_RSC_MGR_H

#include <linux/types.h>

struct module;

/* Message IDs */
#define GUNYAH_RM_RPC_VM_ALLOC_VMID	0x56000001
#define GUNYAH_RM_RPC_VM_DEALLOC_VMID	0x56000002
#define GUNYAH_RM_RPC_VM_START		0x56000004
#define GUNYAH_RM_RPC_VM_STOP		0x56000005
#define GUNYAH_RM_RPC_VM_GET_VMID	0x56000024
#define GUNYAH_RM_RPC_MEM_LEND		0x51000012
#define GUNYAH_RM_RPC_MEM_SHARE		0x51000013
#define GUNYAH_RM_RPC_MEM_RECLAIM	0x51000015
#define GUNYAH_RM_RPC_MEM_APPEND	0x51000018

/* Error codes of a reply; 0 is success. */
enum gunyah_rm_error {
	GUNYAH_RM_ERROR_OK		= 0x0,
	GUNYAH_RM_ERROR_UNIMPLEMENTED	= 0xFFFFFFFF,
	GUNYAH_RM_ERROR_NOMEM		= 0x1,
	GUNYAH_RM_ERROR_NORESOURCE	= 0x2,
	GUNYAH_RM_ERROR_DENIED		= 0x3,
	GUNYAH_RM_ERROR_INVALID		= 0x4,
	GUNYAH_RM_ERROR_BUSY		= 0x5,
	GUNYAH_RM_ERROR_ARGUMENT_INVALID	= 0x6,
	GUNYAH_RM_ERROR_HANDLE_INVALID	= 0x7,
	GUNYAH_RM_ERROR_VALIDATE_FAILED	= 0x8,
	GUNYAH_RM_ERROR_MAP_FAILED	= 0x9,
	GUNYAH_RM_ERROR_MEM_INVALID	= 0xA,
	GUNYAH_RM_ERROR_MEM_INUSE	= 0xB,
	GUNYAH_RM_ERROR_MEM_RELEASED	= 0xC,
	GUNYAH_RM_ERROR_VMID_INVALID	= 0xD,
	GUNYAH_RM_ERROR_LOOKUP_FAILED	= 0xE,
};

/* VMIDs of the RM's own namespace */
#define GUNYAH_VMID_HLOS		3	/* the host */
#define GUNYAH_VMID_INVAL		U16_MAX

#define GUNYAH_MEM_HANDLE_INVAL		U32_MAX

/* Rights of an ACL entry */
#define GUNYAH_RM_ACL_X			BIT(0)
#define GUNYAH_RM_ACL_W			BIT(1)
#define GUNYAH_RM_ACL_R			BIT(2)

#define GUNYAH_RM_MEM_TYPE_NORMAL	0

/* Flags of MEM_LEND / MEM_SHARE and of MEM_APPEND */
#define GUNYAH_RM_MEM_SHARE_FLAG_APPEND	BIT(1)
#define GUNYAH_RM_MEM_APPEND_FLAG_END	BIT(0)

/* Memory entries per MEM_LEND, MEM_SHARE or MEM_APPEND message */
#define GUNYAH_RM_MAX_MEM_ENTRIES	512

/* Wire layouts, little endian, as the RM reads them. */
struct gunyah_rm_vm_common_req {
	__le16 vmid;
	__le16 reserved;
} __packed;

struct gunyah_rm_vm_alloc_vmid_resp {
	__le16 vmid;
	__le16 reserved;
} __packed;

#define GUNYAH_RM_VM_STOP_FLAG_FORCE	BIT(0)
#define GUNYAH_RM_VM_STOP_REASON_FORCE	3

struct gunyah_rm_vm_stop_req {
	__le16 vmid;
	u8 flags;
	u8 reserved;
	__le32 stop_reason;
} __packed;

struct gunyah_rm_mem_acl_entry {
	__le16 vmid;
	u8 perms;
	u8 reserved;
} __packed;

struct gunyah_rm_mem_entry {
	__le64 phys_addr;
	__le64 size;
} __packed;

/* Header of each of the three lists; entries follow it. */
struct gunyah_rm_list_hdr {
	__le16 n_entries;
	__le16 reserved;
} __packed;

/*
 * MEM_LEND and MEM_SHARE: this header, then the ACL list, the memory list
 * and the (empty) attribute list, each a struct gunyah_rm_list_hdr and its
 * entries.  The reply is a __le32 memory handle.
 */
struct gunyah_rm_mem_share_req_header {
	u8 mem_type;
	u8 reserved0;
	u8 flags;
	u8 reserved1;
	__le32 label;
} __packed;

/* MEM_APPEND: this header, then a memory list. */
struct gunyah_rm_mem_append_req_header {
	__le32 mem_handle;
	u8 flags;
	u8 reserved0;
	__le16 reserved1;
} __packed;

struct gunyah_rm_mem_release_req {
	__le32 mem_handle;
	u8 flags;
	u8 reserved[3];
} __packed;

/**
 * struct gunyah_rm_transport_ops - how messages reach a resource manager
 * @owner: The module that implements the transport; each VM holds a
 *	reference to it.
 * @call: Send the request @req of @req_size bytes as message @msg_id and
 *	wait for the reply.  On success, *@resp is the reply's payload
 *	(kmalloc()ed, freed by the caller with kfree(); NULL when empty)
 *	and *@resp_size its size.  May sleep; may be called concurrently.
 *	Return 0, a negative errno of the transport itself, or the positive
 *	enum gunyah_rm_error of the reply (then *@resp is NULL).
 */
struct gunyah_rm_transport_ops {
	struct module *owner;
	int (*call)(void *priv, u32 msg_id, const void *req, size_t req_size,
		    void **resp, size_t *resp_size);
};

/**
 * struct gunyah_rm - a resource manager the driver talks to
 * @ops: Its transport.
 * @priv: The transport's data, given to @ops->call.
 */
struct gunyah_rm {
	const struct gunyah_rm_transport_ops *ops;
	void *priv;
};

int gunyah_rm_register(struct gunyah_rm *rm);
void gunyah_rm_unregister(struct gunyah_rm *rm);

/* A range of host physical memory in a parcel. */
struct gunyah_rm_mem_range {
	phys_addr_t phys;
	u64 size;
};

int gunyah_rm_errno(u32 rm_error);
int gunyah_rm_alloc_vmid(struct gunyah_rm *rm, u16 *vmid);
int gunyah_rm_dealloc_vmid(struct gunyah_rm *rm, u16 vmid);
int gunyah_rm_vm_start(struct gunyah_rm *rm, u16 vmid);
int gunyah_rm_vm_stop(struct gunyah_rm *rm, u16 vmid);
int gunyah_rm_get_vmid(struct gunyah_rm *rm, u16 *vmid);
int gunyah_rm_mem_give(struct gunyah_rm *rm, bool lend, u16 vmid, u8 perms,
		       u16 host_vmid, u32 label,
		       const struct gunyah_rm_mem_range *ranges,
		       unsigned int nr, u32 *handle);
int gunyah_rm_mem_reclaim(struct gunyah_rm *rm, u32 handle);

#endif /* _GUNYAH_RSC_MGR_H */
