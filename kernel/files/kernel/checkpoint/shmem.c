// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: MAP_SHARED mappings of shmem objects (CKPT_VMA_SHMEM
 * vmas, CKPT_HDR_SHMEM): shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS
 * and MAP_SHARED of /dev/zero, both a kernel-internal shmem file
 * "dev/zero") and memfds.
 *
 * Each object is saved once, keyed by its inode, however many mappings
 * map it (one mapping split by mprotect(), or mremap()ed copies): the
 * content of anonymous memory with its first mapping; a memfd is the
 * memfd of a descriptor of the file table (files.c notes each memfd's
 * FILE_DATA here first), whose content is already in the image.  Restart
 * makes each anonymous object again as shmem_zero_setup() does (its
 * commit charge unless MAP_NORESERVE), fills it, and maps every mapping
 * of it on the same file; a memfd mapping maps the restored memfd, so it
 * still aliases the descriptor.  A mapping made without write access to
 * its file (no VM_MAYWRITE) is mapped on a read-only file again.
 *
 * A deleted file of a tmpfs (POSIX shared memory or a named semaphore
 * that was unlinked while mapped: glibc's sem_open() maps the file of
 * /dev/shm, multiprocessing unlinks it at once) is a shmem object too: the
 * file of its descriptor if the table holds one (restored by unlinked.c),
 * else saved with its first mapping (its old path, permission bits and
 * content) and made again as unlinked.c makes a deleted file (created
 * under the old name, O_EXCL, unlinked at once), so that /proc/PID/maps
 * names it as before.
 *
 * Refused (memory.c names the mapping): a memfd that no descriptor holds
 * any more, MAP_PRIVATE mappings of a memfd.  SysV shm attachments are
 * ipc_shm.c's.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>

#define CKPT_SHM_BITS	6
#define CKPT_SHM_ANON_NAME	"dev/zero"

/* checkpoint: a shmem inode of the image */
struct ckpt_shm_obj {
	struct hlist_node node;
	struct inode *inode;	/* referenced */
	int data_ref;		/* a memfd of the file table: its FILE_DATA */
	int shm_ref;		/* its SHMEM number, 0 until mapped */
};

/* restart: an object made for the image */
struct ckpt_shm_rst {
	struct file *file;
	u32 kind;
	s32 data_ref;
};

struct ckpt_shm_table {
	DECLARE_HASHTABLE(objs, CKPT_SHM_BITS);
	int next_ref;			/* checkpoint: shm_refs given */
	struct ckpt_shm_rst *rst;	/* restart: by shm_ref - 1 */
	unsigned int nrst;
};

static bool ckpt_shmem_is_anon(struct file *file)
{
	return IS_PRIVATE(file_inode(file)) &&
	       !strcmp(file->f_path.dentry->d_name.name, CKPT_SHM_ANON_NAME);
}

/*
 * Under the mmap lock: a MAP_SHARED mapping of anonymous shared memory
 * or of a memfd (not of a SysV shm segment, whose internal shmem file is
 * named "SYSV...", nor of a tmpfs file with a name).
 */
/* a deleted regular file of a tmpfs, not a memfd: no name leads to it */
bool ckpt_shmem_deleted(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct inode *inode = file_inode(file);

	return shmem_file(file) && !IS_ROOT(dentry) && d_unlinked(dentry) &&
	       S_ISREG(inode->i_mode) && !inode->i_nlink &&
	       !ckpt_is_memfd(file);
}

bool ckpt_shmem_vma(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	if (!file || !shmem_file(file) || !IS_ROOT(file->f_path.dentry))
		return false;
	return ckpt_shmem_is_anon(file) || ckpt_is_memfd(file);
}

static struct ckpt_shm_table *ckpt_shm_table(struct ckpt_ctx *ctx)
{
	if (!ctx->shm) {
		ctx->shm = kzalloc(sizeof(*ctx->shm), GFP_KERNEL);
		if (ctx->shm)
			hash_init(ctx->shm->objs);
	}
	return ctx->shm;
}

static struct ckpt_shm_obj *ckpt_shm_lookup(struct ckpt_ctx *ctx,
					    struct inode *inode, bool add)
{
	struct ckpt_shm_table *t = ckpt_shm_table(ctx);
	struct ckpt_shm_obj *obj;

	if (!t)
		return ERR_PTR(-ENOMEM);
	hash_for_each_possible(t->objs, obj, node, (unsigned long)inode)
		if (obj->inode == inode)
			return obj;
	if (!add)
		return NULL;
	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	ihold(inode);
	obj->inode = inode;
	hash_add(t->objs, &obj->node, (unsigned long)inode);
	return obj;
}

/* checkpoint, files.c: the memfd @file is FILE_DATA @data_ref */
int ckpt_shmem_note_memfd(struct ckpt_ctx *ctx, struct file *file,
			  int data_ref)
{
	struct ckpt_shm_obj *obj = ckpt_shm_lookup(ctx, file_inode(file), true);

	if (IS_ERR(obj))
		return PTR_ERR(obj);
	obj->data_ref = data_ref;
	return 0;
}

/* the old path of a deleted file, to make it again under */
static int checkpoint_shm_deleted_path(struct ckpt_ctx *ctx, struct file *file,
				       const char *what)
{
	char *buf = __getname(), *path;
	int ret;

	if (!buf)
		return -ENOMEM;
	path = d_path(&file->f_path, buf, PATH_MAX);
	if (IS_ERR(path)) {
		ret = ckpt_err(ctx, PTR_ERR(path), "%s: no path for its deleted file",
			       what);
	} else {
		ckpt_unlinked_path(path);
		ret = ckpt_write_string(ctx, path);
	}
	__putname(buf);
	return ret;
}

/* checkpoint: the SHMEM record of a CKPT_VMA_SHMEM vma, content the first time */
int checkpoint_vma_shmem(struct ckpt_ctx *ctx, struct file *file,
			 unsigned long start, unsigned long end)
{
	struct ckpt_hdr_shmem h = { };
	struct inode *inode = file_inode(file);
	struct ckpt_shm_obj *obj;
	bool anon = ckpt_shmem_is_anon(file);
	bool deleted = !anon && ckpt_shmem_deleted(file);
	char what[48];
	int ret;

	BUILD_BUG_ON(sizeof(h) != 32);
	snprintf(what, sizeof(what), "mapping %lx-%lx", start, end);
	obj = ckpt_shm_lookup(ctx, inode, anon || deleted);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (!obj)	/* a memfd: files.c noted those of the table */
		return ckpt_err(ctx, -EOPNOTSUPP,
				"%s /%s (deleted): shared mapping of a memfd that no descriptor holds: not supported",
				what, file->f_path.dentry->d_name.name);
	h.kind = anon ? CKPT_SHMEM_ANON :
		 deleted ? CKPT_SHMEM_DELETED : CKPT_SHMEM_MEMFD;
	h.data_ref = obj->data_ref;
	h.size = i_size_read(inode);
	if (deleted && !h.data_ref)
		h.mode = inode->i_mode & 07777;
	if (obj->shm_ref) {
		h.shm_ref = obj->shm_ref;
		return ckpt_write_obj(ctx, &h, CKPT_HDR_SHMEM, sizeof(h));
	}
	obj->shm_ref = ++ctx->shm->next_ref;
	h.shm_ref = obj->shm_ref;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_SHMEM, sizeof(h));
	if (!ret && deleted && !h.data_ref)
		ret = checkpoint_shm_deleted_path(ctx, file, what);
	if (!ret && (anon || (deleted && !h.data_ref)) && h.size)
		ret = ckpt_write_content(ctx, file, what, h.size);
	return ret;
}

/* restart: a deleted tmpfs file no descriptor held, made again and filled */
static struct file *restore_shm_deleted(struct ckpt_ctx *ctx,
					struct ckpt_hdr_shmem *h)
{
	struct file *file;
	char *path;
	int ret;

	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path))
		return ERR_CAST(path);
	file = restore_deleted_file(ctx, path, h->mode);
	if (!IS_ERR(file) && !shmem_file(file)) {
		ckpt_err(ctx, -EINVAL, "shmem %d: %s is not on a tmpfs here",
			 h->shm_ref, path);
		fput(file);
		file = ERR_PTR(-EINVAL);
	}
	kfree(path);
	if (IS_ERR(file))
		return file;
	ret = ckpt_read_content(ctx, file, h->size, "deleted file");
	if (ret) {
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}

/* restart: a new object of the image, made (and filled) or the memfd's */
static struct file *restore_shm_new(struct ckpt_ctx *ctx,
				    struct ckpt_hdr_shmem *h,
				    struct ckpt_hdr_vma *v)
{
	struct file *file;
	int ret;

	if (h->kind == CKPT_SHMEM_MEMFD ||
	    (h->kind == CKPT_SHMEM_DELETED && h->data_ref)) {
		file = restore_file_data_file(ctx, h->data_ref,
					      h->kind == CKPT_SHMEM_MEMFD ?
					      CKPT_FILE_MEMFD : CKPT_FILE_DELETED);
		if (!file || (h->kind == CKPT_SHMEM_DELETED && !shmem_file(file)))
			return ERR_PTR(ckpt_err(ctx, -EINVAL,
						"shmem %d: no %s %d in the file table",
						h->shm_ref,
						h->kind == CKPT_SHMEM_MEMFD ?
						"memfd" : "deleted tmpfs file",
						h->data_ref));
		if (i_size_read(file_inode(file)) != h->size)
			return ERR_PTR(ckpt_err(ctx, -EINVAL,
						"shmem %d: memfd of %lld bytes, image %llu",
						h->shm_ref,
						i_size_read(file_inode(file)),
						h->size));
		return get_file(file);
	}
	if (h->kind == CKPT_SHMEM_DELETED)
		return restore_shm_deleted(ctx, h);
	if (h->data_ref || !h->size)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "shmem %d: bad anonymous object",
					h->shm_ref));
	/* as shmem_zero_setup(): charged unless MAP_NORESERVE */
	file = shmem_kernel_file_setup(CKPT_SHM_ANON_NAME, h->size,
				       v->vm_flags & VM_NORESERVE);
	if (IS_ERR(file))
		return ERR_PTR(ckpt_err(ctx, PTR_ERR(file),
					"shmem %d: cannot make %llu bytes of shared memory",
					h->shm_ref, h->size));
	ret = ckpt_read_content(ctx, file, h->size, "shared memory");
	if (ret) {
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}

/* restart: the object of the SHMEM record after @v, new or seen before */
static struct file *restore_shm_object(struct ckpt_ctx *ctx,
				       struct ckpt_hdr_vma *v)
{
	struct ckpt_shm_table *t = ckpt_shm_table(ctx);
	struct ckpt_hdr_shmem h;
	struct ckpt_shm_rst *r;
	u64 len = v->vm_end - v->vm_start;
	int ret;

	if (!t)
		return ERR_PTR(-ENOMEM);
	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_SHMEM, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	/* a mapping may reach beyond the object (SIGBUS there) */
	if ((h.kind != CKPT_SHMEM_ANON && h.kind != CKPT_SHMEM_MEMFD &&
	     h.kind != CKPT_SHMEM_DELETED) ||
	    h.mode & ~07777 ||
	    (h.mode && (h.kind != CKPT_SHMEM_DELETED || h.data_ref)) ||
	    (h.kind == CKPT_SHMEM_ANON && h.data_ref) ||
	    h.size > MAX_LFS_FILESIZE || h.size != v->file_size ||
	    v->vm_pgoff > (ULONG_MAX >> PAGE_SHIFT) - (len >> PAGE_SHIFT))
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"vma %llx-%llx: bad shmem record (kind %u size %llu offset %llu pages)",
					v->vm_start, v->vm_end, h.kind, h.size,
					v->vm_pgoff));
	if (h.shm_ref == t->nrst + 1) {
		r = krealloc_array(t->rst, t->nrst + 1, sizeof(*r), GFP_KERNEL);
		if (!r)
			return ERR_PTR(-ENOMEM);
		t->rst = r;
		r += t->nrst;
		r->file = restore_shm_new(ctx, &h, v);
		if (IS_ERR(r->file))
			return r->file;
		r->kind = h.kind;
		r->data_ref = h.data_ref;
		t->nrst++;
		return r->file;
	}
	if (h.shm_ref < 1 || h.shm_ref > t->nrst)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "bad shmem ref %d",
					h.shm_ref));
	r = &t->rst[h.shm_ref - 1];
	if (r->kind != h.kind || r->data_ref != h.data_ref ||
	    i_size_read(file_inode(r->file)) != h.size)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "shmem %d repeated otherwise",
					h.shm_ref));
	return r->file;
}

/* restart: map a CKPT_VMA_SHMEM vma on its object */
int restore_vma_shmem(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *h,
		      unsigned long prot, unsigned long flags,
		      unsigned long *addr)
{
	struct file *obj, *file;

	obj = restore_shm_object(ctx, h);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	/* without VM_MAYWRITE, on a file that cannot be written */
	if (h->vm_flags & VM_MAYWRITE)
		file = get_file(obj);
	else
		file = dentry_open(&obj->f_path, O_RDONLY | O_LARGEFILE,
				   current_cred());
	if (IS_ERR(file))
		return ckpt_err(ctx, PTR_ERR(file), "vma %llx-%llx: cannot open its shmem object",
				h->vm_start, h->vm_end);
	*addr = vm_mmap(file, h->vm_start, h->vm_end - h->vm_start, prot,
			MAP_SHARED | MAP_FIXED_NOREPLACE | flags,
			h->vm_pgoff << PAGE_SHIFT);
	fput(file);
	return 0;
}

void ckpt_shmem_free(struct ckpt_ctx *ctx)
{
	struct ckpt_shm_table *t = ctx->shm;
	struct ckpt_shm_obj *obj;
	struct hlist_node *tmp;
	unsigned int i;
	int bkt;

	if (!t)
		return;
	hash_for_each_safe(t->objs, bkt, tmp, obj, node) {
		hash_del(&obj->node);
		iput(obj->inode);
		kfree(obj);
	}
	for (i = 0; i < t->nrst; i++)
		fput(t->rst[i].file);
	kfree(t->rst);
	kfree(t);
	ctx->shm = NULL;
}
