/*
 * image.c -- PNG in and out with libpng's simplified API (png_image, libpng >= 1.6): it
 * converts formats itself and reports errors through the image's message instead of
 * longjmp.
 */
#define _POSIX_C_SOURCE 200809L

#include "image.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sk_viz_png_write(const char *path, SDL_Surface *s, char *err, size_t errlen) {
  SDL_Surface *rgb = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGB24, 0);
  if (!rgb) {
    snprintf(err, errlen, "%s: %s", path, SDL_GetError());
    return -1;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)rgb->w;
  img.height = (png_uint_32)rgb->h;
  img.format = PNG_FORMAT_RGB;
  SDL_LockSurface(rgb);
  int ok = png_image_write_to_file(&img, tmp, 0, rgb->pixels, rgb->pitch, NULL);
  SDL_UnlockSurface(rgb);
  SDL_FreeSurface(rgb);
  if (!ok) {
    snprintf(err, errlen, "%s: cannot write: %s", path, img.message);
    remove(tmp);
    return -1;
  }
  if (rename(tmp, path) != 0) {
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

int sk_viz_png_read(const char *path, unsigned char **rgb, int *w, int *h, char *err,
                    size_t errlen) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  *rgb = NULL;
  if (!png_image_begin_read_from_file(&img, path)) {
    snprintf(err, errlen, "%s: %s", path, img.message);
    return -1;
  }
  img.format = PNG_FORMAT_RGB;
  unsigned char *buf = malloc(PNG_IMAGE_SIZE(img));
  if (!buf) {
    png_image_free(&img);
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
    snprintf(err, errlen, "%s: %s", path, img.message);
    free(buf);
    return -1;
  }
  *rgb = buf;
  *w = (int)img.width;
  *h = (int)img.height;
  return 0;
}
