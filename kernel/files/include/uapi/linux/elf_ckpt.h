/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ET_CKPT: a checkpoint as an ELF file that execve() restores (the
 * layout is described in the lab's kernel/README.md, "ET_CKPT").
 */
#ifndef _UAPI_LINUX_ELF_CKPT_H
#define _UAPI_LINUX_ELF_CKPT_H

/*
 * Values only, so that user space can include it beside <elf.h>; the
 * program header types are PT_LOOS (0x60000000) + PT_CKPT_OFFSET + n.
 */
/* an ELF file type of its own (ET_CORE is 4) */
#define ET_CKPT			5

#define PT_CKPT_OFFSET		0x01010101
/*
 * One per memory area: a CKPT_HDR_VMA record [+ STRING(path)].  A file
 * mapping's p_paddr is 0 (the file is opened by its path, with the exec
 * caller's rights) or the descriptor + 1 of the file, opened by the exec
 * caller (a helper), at least 3; the exec closes it.
 */
#define PT_CKPT_VMA		(0x60000000 + PT_CKPT_OFFSET + 1)
/* the task: HEADER ... MM records (see the README) */
#define PT_CKPT_CORE		(0x60000000 + PT_CKPT_OFFSET + 2)
/* the pages of the PT_CKPT_VMA before it: PGARR records */
#define PT_CKPT_PAGES		(0x60000000 + PT_CKPT_OFFSET + 3)

#endif /* _UAPI_LINUX_ELF_CKPT_H */
