/*
 * image.h -- an SDL surface written as a PNG file (libpng), and read back (the tests).
 */
#ifndef SKADI_VIZ_IMAGE_H
#define SKADI_VIZ_IMAGE_H

#include <SDL.h>
#include <stddef.h>

/* Writes surface s (any format SDL can convert to RGB24) to path as an 8-bit RGB PNG,
 * through path.tmp renamed into place.  Returns 0, or -1 with a message naming path. */
int sk_viz_png_write(const char *path, SDL_Surface *s, char *err, size_t errlen);

/* Reads the PNG at path into a new RGB24 buffer (*rgb, w * h * 3 bytes, row-major; the
 * caller frees it).  Returns 0, or -1 with a message. */
int sk_viz_png_read(const char *path, unsigned char **rgb, int *w, int *h, char *err,
                    size_t errlen);

#endif
