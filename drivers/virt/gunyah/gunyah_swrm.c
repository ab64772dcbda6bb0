// SPDX-License-Identifier: GPL-2.0-only
/*
 * A software Gunyah resource manager, for tests: it reads the messages the
 * VM manager sends (rsc_mgr.h), keeps VMs and memory parcels, and answers
 * as the RM does, enforcing its rules:
 *
 * - memory already in a parcel cannot be lent or shared again;
 * - a lend lists exactly one VM; a share also lists the host, with read
 *   and write rights, so that a shared parcel stays host-accessible;
 * - rights are R, RX, RW or RWX;
 * - only a parcel that exists can be reclaimed, and not while the VM
 *   holds it (has accepted and not released it);
 * - a forced VM_STOP releases everything the VM held, and
 *   VM_DEALLOC_VMID gives every parcel of the VM back to the host.
 *
 * It cannot do what the hypervisor does: the host keeps its mappings of
 * lent memory (the VM manager and guestmem take them away, which is what
 * the tests check), and no guest runs, so "the VM holds a parcel" is set
 * by the tests, through gunyah_swrm_accept() or debugfs.
 *
 * One instance registers with the VM manager at module load, for
 * /dev/gunyah, with debugfs files under gunyah_swrm/: "parcels" lists the
 * parcels ("handle vmid lend|share held|free bytes" per line), and writing
 * a handle to "accept" or "release" makes its VM take or give up a parcel.
 * KUnit makes instances of its own.
 */

#include <linux/debugfs.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gunyah_swrm.h"
#include "rsc_mgr.h"

#define SWRM_VMID_FIRST		0x80
#define SWRM_VMID_LAST		0xBF
#define SWRM_MAX_PARCELS	64

enum swrm_vm_state { SWRM_VM_READY, SWRM_VM_RUNNING, SWRM_VM_STOPPED };

struct swrm_vm {
	struct list_head entry;
	u16 vmid;
	enum swrm_vm_state state;
};

struct swrm_parcel {
	struct list_head entry;
	u32 handle;
	u16 vmid;
	bool lend;
	bool complete;
	bool held;
	unsigned int nr;
	struct gunyah_rm_mem_range *ranges;
};

/**
 * struct gunyah_swrm - one software resource manager
 * @rm: What the VM manager talks to.
 * @lock: Protects everything below; taken by each message.
 * @vms: struct swrm_vm.
 * @parcels: struct swrm_parcel, in handle order.
 * @nr_parcels: Length of @parcels.
 * @next_handle: Handle of the next parcel.
 */
struct gunyah_swrm {
	struct gunyah_rm rm;
	struct mutex lock;	/* see above */
	struct list_head vms;
	struct list_head parcels;
	unsigned int nr_parcels;
	u32 next_handle;
};

static struct swrm_vm *swrm_find_vm(struct gunyah_swrm *s, u16 vmid)
{
	struct swrm_vm *vm;

	list_for_each_entry(vm, &s->vms, entry)
		if (vm->vmid == vmid)
			return vm;
	return NULL;
}

static struct swrm_parcel *swrm_find_parcel(struct gunyah_swrm *s, u32 handle)
{
	struct swrm_parcel *p;

	list_for_each_entry(p, &s->parcels, entry)
		if (p->handle == handle)
			return p;
	return NULL;
}

static void swrm_free_parcel(struct gunyah_swrm *s, struct swrm_parcel *p)
{
	list_del(&p->entry);
	s->nr_parcels--;
	kvfree(p->ranges);
	kfree(p);
}

static u64 swrm_parcel_bytes(struct swrm_parcel *p)
{
	u64 bytes = 0;
	unsigned int i;

	for (i = 0; i < p->nr; i++)
		bytes += p->ranges[i].size;
	return bytes;
}

/* Whether [phys, phys + size) meets memory some parcel has. */
static bool swrm_in_parcel(struct gunyah_swrm *s, u64 phys, u64 size)
{
	struct swrm_parcel *p;
	unsigned int i;

	list_for_each_entry(p, &s->parcels, entry)
		for (i = 0; i < p->nr; i++)
			if (phys < p->ranges[i].phys + p->ranges[i].size &&
			    p->ranges[i].phys < phys + size)
				return true;
	return false;
}

/*
 * Reads a list header and its @esize-byte entries at *@off of @req; on
 * success *@entries points at them, *@n is their number and *@off is past
 * them.
 */
static u32 swrm_read_list(const void *req, size_t size, size_t *off,
			  size_t esize, const void **entries, unsigned int *n)
{
	const struct gunyah_rm_list_hdr *hdr = req + *off;
	size_t bytes;

	if (size - *off < sizeof(*hdr))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	*n = le16_to_cpu(hdr->n_entries);
	bytes = *n * esize;
	if (size - *off - sizeof(*hdr) < bytes)
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	*entries = hdr + 1;
	*off += sizeof(*hdr) + bytes;
	return GUNYAH_RM_ERROR_OK;
}

/* Appends @n memory entries to @p, checking each against every parcel. */
static u32 swrm_add_ranges(struct gunyah_swrm *s, struct swrm_parcel *p,
			   const struct gunyah_rm_mem_entry *e, unsigned int n)
{
	struct gunyah_rm_mem_range *ranges;
	unsigned int i;

	if (!n || n > GUNYAH_RM_MAX_MEM_ENTRIES)
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	ranges = kvrealloc(p->ranges, array_size(p->nr + n, sizeof(*ranges)),
			   GFP_KERNEL);
	if (!ranges)
		return GUNYAH_RM_ERROR_NOMEM;
	p->ranges = ranges;
	for (i = 0; i < n; i++) {
		u64 phys = le64_to_cpu(e[i].phys_addr);
		u64 size = le64_to_cpu(e[i].size);
		u64 end;

		if (!size || !PAGE_ALIGNED(phys) || !PAGE_ALIGNED(size) ||
		    check_add_overflow(phys, size, &end))
			return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
		/* Not the host's to give: lent or shared already. */
		if (swrm_in_parcel(s, phys, size))
			return GUNYAH_RM_ERROR_MEM_INVALID;
		ranges[p->nr].phys = phys;
		ranges[p->nr].size = size;
		p->nr++;
	}
	return GUNYAH_RM_ERROR_OK;
}

static bool swrm_rights_ok(u8 perms)
{
	/* R, RX, RW, RWX */
	return (perms & GUNYAH_RM_ACL_R) &&
	       !(perms & ~(GUNYAH_RM_ACL_R | GUNYAH_RM_ACL_W | GUNYAH_RM_ACL_X));
}

static u32 swrm_mem_give(struct gunyah_swrm *s, bool lend, const void *req,
			 size_t size, u32 *handle)
{
	const struct gunyah_rm_mem_share_req_header *h = req;
	const struct gunyah_rm_mem_acl_entry *acl;
	const struct gunyah_rm_mem_entry *mem;
	unsigned int n_acl, n_mem, n_attr, i;
	struct swrm_parcel *p;
	bool host = false;
	const void *attr;
	size_t off = sizeof(*h);
	u16 vmid = GUNYAH_VMID_INVAL;
	u32 err;

	if (size < sizeof(*h) || h->mem_type != GUNYAH_RM_MEM_TYPE_NORMAL ||
	    (h->flags & ~GUNYAH_RM_MEM_SHARE_FLAG_APPEND))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	err = swrm_read_list(req, size, &off, sizeof(*acl), (const void **)&acl,
			     &n_acl);
	if (!err)
		err = swrm_read_list(req, size, &off, sizeof(*mem),
				     (const void **)&mem, &n_mem);
	if (!err)
		err = swrm_read_list(req, size, &off, 4, &attr, &n_attr);
	if (err)
		return err;
	if (off != size || n_attr || !n_acl || (lend && n_acl != 1))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	for (i = 0; i < n_acl; i++) {
		u16 id = le16_to_cpu(acl[i].vmid);

		if (!swrm_rights_ok(acl[i].perms))
			return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
		if (id == GUNYAH_VMID_HLOS) {
			if (lend || host)
				return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
			if (!(acl[i].perms & GUNYAH_RM_ACL_W))
				return GUNYAH_RM_ERROR_DENIED;
			host = true;
			continue;
		}
		/* One VM per parcel here; the RM allows more. */
		if (vmid != GUNYAH_VMID_INVAL || !swrm_find_vm(s, id))
			return GUNYAH_RM_ERROR_VMID_INVALID;
		vmid = id;
	}
	if (vmid == GUNYAH_VMID_INVAL || (!lend && !host))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	if (s->nr_parcels >= SWRM_MAX_PARCELS)
		return GUNYAH_RM_ERROR_NORESOURCE;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return GUNYAH_RM_ERROR_NOMEM;
	err = swrm_add_ranges(s, p, mem, n_mem);
	if (err) {
		kvfree(p->ranges);
		kfree(p);
		return err;
	}
	p->handle = s->next_handle++;
	if (s->next_handle == GUNYAH_MEM_HANDLE_INVAL)
		s->next_handle = 0;
	p->vmid = vmid;
	p->lend = lend;
	p->complete = !(h->flags & GUNYAH_RM_MEM_SHARE_FLAG_APPEND);
	list_add_tail(&p->entry, &s->parcels);
	s->nr_parcels++;
	*handle = p->handle;
	return GUNYAH_RM_ERROR_OK;
}

static u32 swrm_mem_append(struct gunyah_swrm *s, const void *req,
			   size_t size)
{
	const struct gunyah_rm_mem_append_req_header *h = req;
	const struct gunyah_rm_mem_entry *mem;
	struct swrm_parcel *p;
	size_t off = sizeof(*h);
	unsigned int n;
	u32 err;

	if (size < sizeof(*h) || (h->flags & ~GUNYAH_RM_MEM_APPEND_FLAG_END))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	err = swrm_read_list(req, size, &off, sizeof(*mem), (const void **)&mem,
			     &n);
	if (err)
		return err;
	if (off != size)
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	p = swrm_find_parcel(s, le32_to_cpu(h->mem_handle));
	if (!p || p->complete)
		return GUNYAH_RM_ERROR_HANDLE_INVALID;
	err = swrm_add_ranges(s, p, mem, n);
	if (!err && (h->flags & GUNYAH_RM_MEM_APPEND_FLAG_END))
		p->complete = true;
	return err;
}

static u32 swrm_mem_reclaim(struct gunyah_swrm *s, const void *req,
			    size_t size)
{
	const struct gunyah_rm_mem_release_req *r = req;
	struct swrm_parcel *p;

	if (size != sizeof(*r))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	/* No sanitizing: the VM manager keeps contents, as documented. */
	if (r->flags)
		return GUNYAH_RM_ERROR_UNIMPLEMENTED;
	p = swrm_find_parcel(s, le32_to_cpu(r->mem_handle));
	if (!p)
		return GUNYAH_RM_ERROR_HANDLE_INVALID;
	if (p->held)
		return GUNYAH_RM_ERROR_MEM_INUSE;
	swrm_free_parcel(s, p);
	return GUNYAH_RM_ERROR_OK;
}

static u32 swrm_vm_msg(struct gunyah_swrm *s, u32 msg_id, const void *req,
		       size_t size, void *resp, size_t *resp_size)
{
	const struct gunyah_rm_vm_common_req *c = req;
	struct swrm_parcel *p, *tmp;
	struct swrm_vm *vm;
	u16 vmid;

	if (msg_id == GUNYAH_RM_RPC_VM_STOP ?
	    size != sizeof(struct gunyah_rm_vm_stop_req) : size != sizeof(*c))
		return GUNYAH_RM_ERROR_ARGUMENT_INVALID;
	vmid = le16_to_cpu(c->vmid);

	if (msg_id == GUNYAH_RM_RPC_VM_ALLOC_VMID) {
		struct gunyah_rm_vm_alloc_vmid_resp *r = resp;

		if (!vmid) {
			for (vmid = SWRM_VMID_FIRST; vmid <= SWRM_VMID_LAST; vmid++)
				if (!swrm_find_vm(s, vmid))
					break;
			if (vmid > SWRM_VMID_LAST)
				return GUNYAH_RM_ERROR_NORESOURCE;
		} else if (vmid < SWRM_VMID_FIRST || vmid > SWRM_VMID_LAST ||
			   swrm_find_vm(s, vmid)) {
			return GUNYAH_RM_ERROR_VMID_INVALID;
		}
		vm = kzalloc(sizeof(*vm), GFP_KERNEL);
		if (!vm)
			return GUNYAH_RM_ERROR_NOMEM;
		vm->vmid = vmid;
		vm->state = SWRM_VM_READY;
		list_add_tail(&vm->entry, &s->vms);
		r->vmid = cpu_to_le16(vmid);
		r->reserved = 0;
		*resp_size = sizeof(*r);
		return GUNYAH_RM_ERROR_OK;
	}

	vm = swrm_find_vm(s, vmid);
	if (!vm)
		return GUNYAH_RM_ERROR_VMID_INVALID;
	switch (msg_id) {
	case GUNYAH_RM_RPC_VM_START:
		if (vm->state == SWRM_VM_RUNNING)
			return GUNYAH_RM_ERROR_BUSY;
		vm->state = SWRM_VM_RUNNING;
		return GUNYAH_RM_ERROR_OK;
	case GUNYAH_RM_RPC_VM_STOP:
		if (vm->state != SWRM_VM_RUNNING)
			return GUNYAH_RM_ERROR_BUSY;
		vm->state = SWRM_VM_STOPPED;
		/* The VM is gone: it holds nothing any more. */
		list_for_each_entry(p, &s->parcels, entry)
			if (p->vmid == vmid)
				p->held = false;
		return GUNYAH_RM_ERROR_OK;
	case GUNYAH_RM_RPC_VM_DEALLOC_VMID:
		if (vm->state == SWRM_VM_RUNNING)
			return GUNYAH_RM_ERROR_BUSY;
		/* Everything the VM was given goes back to the host. */
		list_for_each_entry_safe(p, tmp, &s->parcels, entry)
			if (p->vmid == vmid)
				swrm_free_parcel(s, p);
		list_del(&vm->entry);
		kfree(vm);
		return GUNYAH_RM_ERROR_OK;
	}
	return GUNYAH_RM_ERROR_UNIMPLEMENTED;
}

static int swrm_call(void *priv, u32 msg_id, const void *req, size_t size,
		     void **resp, size_t *resp_size)
{
	struct gunyah_swrm *s = priv;
	union {
		__le32 handle;
		struct gunyah_rm_vm_alloc_vmid_resp vmid;
	} r;
	size_t rsize = 0;
	u32 handle = 0, err;

	*resp = NULL;
	*resp_size = 0;
	mutex_lock(&s->lock);
	switch (msg_id) {
	case GUNYAH_RM_RPC_VM_GET_VMID:
		err = size ? GUNYAH_RM_ERROR_ARGUMENT_INVALID : 0;
		r.handle = cpu_to_le32(GUNYAH_VMID_HLOS);
		rsize = err ? 0 : sizeof(r.handle);
		break;
	case GUNYAH_RM_RPC_VM_ALLOC_VMID:
	case GUNYAH_RM_RPC_VM_DEALLOC_VMID:
	case GUNYAH_RM_RPC_VM_START:
	case GUNYAH_RM_RPC_VM_STOP:
		err = swrm_vm_msg(s, msg_id, req, size, &r.vmid, &rsize);
		break;
	case GUNYAH_RM_RPC_MEM_LEND:
	case GUNYAH_RM_RPC_MEM_SHARE:
		err = swrm_mem_give(s, msg_id == GUNYAH_RM_RPC_MEM_LEND, req,
				    size, &handle);
		r.handle = cpu_to_le32(handle);
		rsize = err ? 0 : sizeof(r.handle);
		break;
	case GUNYAH_RM_RPC_MEM_APPEND:
		err = swrm_mem_append(s, req, size);
		break;
	case GUNYAH_RM_RPC_MEM_RECLAIM:
		err = swrm_mem_reclaim(s, req, size);
		break;
	default:
		err = GUNYAH_RM_ERROR_UNIMPLEMENTED;
		break;
	}
	mutex_unlock(&s->lock);
	if (err)
		return err;
	if (rsize) {
		*resp = kmemdup(&r, rsize, GFP_KERNEL);
		if (!*resp)
			return -ENOMEM;
		*resp_size = rsize;
	}
	return 0;
}

static const struct gunyah_rm_transport_ops swrm_ops = {
	.owner	= THIS_MODULE,
	.call	= swrm_call,
};

/**
 * gunyah_swrm_create - a new software resource manager
 *
 * Context: Process context, may sleep.
 * Return: The instance, or NULL when out of memory.
 */
struct gunyah_swrm *gunyah_swrm_create(void)
{
	struct gunyah_swrm *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->rm.ops = &swrm_ops;
	s->rm.priv = s;
	mutex_init(&s->lock);
	INIT_LIST_HEAD(&s->vms);
	INIT_LIST_HEAD(&s->parcels);
	s->next_handle = 1;
	return s;
}
EXPORT_SYMBOL_GPL(gunyah_swrm_create);

/**
 * gunyah_swrm_destroy - free a software resource manager
 * @s: The instance; no VM may use it any more.
 *
 * Context: Process context, may sleep.
 */
void gunyah_swrm_destroy(struct gunyah_swrm *s)
{
	struct swrm_parcel *p, *ptmp;
	struct swrm_vm *vm, *vtmp;

	list_for_each_entry_safe(p, ptmp, &s->parcels, entry)
		swrm_free_parcel(s, p);
	list_for_each_entry_safe(vm, vtmp, &s->vms, entry)
		kfree(vm);
	mutex_destroy(&s->lock);
	kfree(s);
}
EXPORT_SYMBOL_GPL(gunyah_swrm_destroy);

/**
 * gunyah_swrm_rm - the resource manager of a software instance
 * @s: The instance.
 *
 * Context: Any context.
 * Return: What gunyah_vm_create() and gunyah_rm_register() take.
 */
struct gunyah_rm *gunyah_swrm_rm(struct gunyah_swrm *s)
{
	return &s->rm;
}
EXPORT_SYMBOL_GPL(gunyah_swrm_rm);

/**
 * gunyah_swrm_hold - the VM takes or gives up a parcel
 * @s: The instance.
 * @handle: The parcel.
 * @hold: Accept (the VM uses it; reclaim fails) or release.
 *
 * What a guest does with MEM_ACCEPT and MEM_RELEASE, for tests.
 *
 * Context: Process context, may sleep.
 * Return: 0; -ENOENT for no such parcel; -EINVAL to accept a parcel that
 * is incomplete or whose VM does not run.
 */
int gunyah_swrm_hold(struct gunyah_swrm *s, u32 handle, bool hold)
{
	struct swrm_parcel *p;
	struct swrm_vm *vm;
	int ret = 0;

	mutex_lock(&s->lock);
	p = swrm_find_parcel(s, handle);
	if (!p) {
		ret = -ENOENT;
	} else if (hold) {
		vm = swrm_find_vm(s, p->vmid);
		if (!p->complete || !vm || vm->state != SWRM_VM_RUNNING)
			ret = -EINVAL;
		else
			p->held = true;
	} else {
		p->held = false;
	}
	mutex_unlock(&s->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gunyah_swrm_hold);

/**
 * gunyah_swrm_parcel - what a software RM knows of a parcel
 * @s: The instance.
 * @handle: The parcel.
 * @info: Filled in when the parcel exists.
 *
 * Context: Process context, may sleep.
 * Return: 0, or -ENOENT for no such parcel.
 */
int gunyah_swrm_parcel(struct gunyah_swrm *s, u32 handle,
		       struct gunyah_swrm_parcel_info *info)
{
	struct swrm_parcel *p;
	int ret = -ENOENT;

	mutex_lock(&s->lock);
	p = swrm_find_parcel(s, handle);
	if (p) {
		info->vmid = p->vmid;
		info->lend = p->lend;
		info->held = p->held;
		info->complete = p->complete;
		info->nr_ranges = p->nr;
		info->bytes = swrm_parcel_bytes(p);
		info->first_phys = p->nr ? p->ranges[0].phys : 0;
		ret = 0;
	}
	mutex_unlock(&s->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gunyah_swrm_parcel);

/**
 * gunyah_swrm_nr_parcels - how many parcels a software RM keeps
 * @s: The instance.
 *
 * Context: Process context, may sleep.
 * Return: The number of parcels lent or shared now.
 */
unsigned int gunyah_swrm_nr_parcels(struct gunyah_swrm *s)
{
	unsigned int nr;

	mutex_lock(&s->lock);
	nr = s->nr_parcels;
	mutex_unlock(&s->lock);
	return nr;
}
EXPORT_SYMBOL_GPL(gunyah_swrm_nr_parcels);

/* The instance of /dev/gunyah and its debugfs files. */
static struct gunyah_swrm *swrm_default;
static struct dentry *swrm_dir;

static ssize_t swrm_parcels_read(struct file *file, char __user *buf,
				 size_t len, loff_t *ppos)
{
	struct gunyah_swrm *s = file->private_data;
	struct swrm_parcel *p;
	size_t size = 64 * (SWRM_MAX_PARCELS + 1), off = 0;
	ssize_t ret;
	char *text;

	text = kmalloc(size, GFP_KERNEL);
	if (!text)
		return -ENOMEM;
	mutex_lock(&s->lock);
	list_for_each_entry(p, &s->parcels, entry)
		off += scnprintf(text + off, size - off, "%u %u %s %s %llu\n",
				 p->handle, p->vmid, p->lend ? "lend" : "share",
				 p->held ? "held" : "free", swrm_parcel_bytes(p));
	mutex_unlock(&s->lock);
	ret = simple_read_from_buffer(buf, len, ppos, text, off);
	kfree(text);
	return ret;
}

static ssize_t swrm_hold_write(struct file *file, const char __user *buf,
			       size_t len, bool hold)
{
	u32 handle;
	int ret;

	ret = kstrtou32_from_user(buf, len, 0, &handle);
	if (!ret)
		ret = gunyah_swrm_hold(file->private_data, handle, hold);
	return ret ? ret : len;
}

static ssize_t swrm_accept_write(struct file *file, const char __user *buf,
				 size_t len, loff_t *ppos)
{
	return swrm_hold_write(file, buf, len, true);
}

static ssize_t swrm_release_write(struct file *file, const char __user *buf,
				  size_t len, loff_t *ppos)
{
	return swrm_hold_write(file, buf, len, false);
}

static const struct file_operations swrm_parcels_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= swrm_parcels_read,
	.llseek	= default_llseek,
};

static const struct file_operations swrm_accept_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= swrm_accept_write,
	.llseek	= noop_llseek,
};

static const struct file_operations swrm_release_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= swrm_release_write,
	.llseek	= noop_llseek,
};

static int __init swrm_init(void)
{
	int ret;

	swrm_default = gunyah_swrm_create();
	if (!swrm_default)
		return -ENOMEM;
	ret = gunyah_rm_register(&swrm_default->rm);
	if (ret) {
		gunyah_swrm_destroy(swrm_default);
		return ret;
	}
	swrm_dir = debugfs_create_dir("gunyah_swrm", NULL);
	debugfs_create_file("parcels", 0400, swrm_dir, swrm_default,
			    &swrm_parcels_fops);
	debugfs_create_file("accept", 0200, swrm_dir, swrm_default,
			    &swrm_accept_fops);
	debugfs_create_file("release", 0200, swrm_dir, swrm_default,
			    &swrm_release_fops);
	return 0;
}
module_init(swrm_init);

static void __exit swrm_exit(void)
{
	debugfs_remove(swrm_dir);
	gunyah_rm_unregister(&swrm_default->rm);
	gunyah_swrm_destroy(swrm_default);
}
module_exit(swrm_exit);

MODULE_DESCRIPTION("Software Gunyah resource manager, for tests");
MODULE_LICENSE("GPL");
