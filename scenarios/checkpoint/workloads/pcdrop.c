/*
 * pcdrop IN OUT: copy a pre-copy stream (its rounds, then their last pass), dropping the
 * middle page array (a PGARR record and its two BUFFER records) of its first image (round 0),
 * and fix up that image's tail checksum, as a hostile sender could: the stream stays well
 * formed, but pages that the last pass refers to may be in none of the rounds any more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/checkpoint.h>

#define HDR_HEADER 1
#define HDR_PGARR 404
#define HDR_TAIL 9001

struct hdr {
	uint32_t type;
	uint32_t len;
};

static size_t rec_size(const unsigned char *p)
{
	struct hdr h;

	memcpy(&h, p, sizeof(h));
	return ((size_t)h.len + 7) & ~(size_t)7;
}

static uint32_t rec_type(const unsigned char *p)
{
	struct hdr h;

	memcpy(&h, p, sizeof(h));
	return h.type;
}

/* a PGARR record with pages */
static int is_array(const unsigned char *p)
{
	uint64_t nr;

	memcpy(&nr, p + 8, sizeof(nr));
	return rec_type(p) == HDR_PGARR && nr > 0;
}

int main(int argc, char **argv)
{
	size_t len = 0, cap = 1 << 20, off, last = 0, tail = 0, drop = 0, narr = 0, i, k;
	unsigned char *buf = malloc(cap);
	uint64_t sum = 0, sum2 = 0, w;
	FILE *in, *out;
	size_t n;

	if (argc != 3 || !buf)
		return 2;
	in = fopen(argv[1], "rb");
	if (!in)
		return 1;
	while ((n = fread(buf + len, 1, cap - len, in)) > 0) {
		len += n;
		if (len == cap && !(buf = realloc(buf, cap *= 2)))
			return 1;
	}
	fclose(in);
	/* the first image: from its header record to its tail */
	for (off = 0; off + sizeof(struct hdr) <= len; off += rec_size(buf + off)) {
		if (rec_size(buf + off) < sizeof(struct hdr))
			return 1;
		if (rec_type(buf + off) == HDR_TAIL) {
			tail = off;
			break;
		}
	}
	for (off = last; off < tail; off += rec_size(buf + off))
		if (is_array(buf + off))
			narr++;
	if (narr < 2) {
		fprintf(stderr, "pcdrop: %zu page arrays in the first image\n", narr);
		return 1;
	}
	for (off = last, k = 0; off < tail; off += rec_size(buf + off))
		if (is_array(buf + off) &&
		    k++ == narr / 2)
			break;
	drop = rec_size(buf + off);
	drop += rec_size(buf + off + drop);
	drop += rec_size(buf + off + drop);
	memmove(buf + off, buf + off + drop, len - off - drop);
	len -= drop;
	tail -= drop;
	for (i = last; i < tail; i += 8) {
		memcpy(&w, buf + i, 8);
		sum += ckpt_csum_mix(w, (i - last) / 8);
		sum2 += sum;
	}
	memcpy(buf + tail + 16, &sum, 8);
	memcpy(buf + tail + 24, &sum2, 8);
	out = fopen(argv[2], "wb");
	if (!out || fwrite(buf, 1, len, out) != len || fclose(out))
		return 1;
	fprintf(stderr, "pcdrop: dropped page array %zu of %zu (%zu bytes)\n", narr / 2, narr, drop);
	return 0;
}
