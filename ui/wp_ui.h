/* wp_ui.h: the plug-in's GTK 3 dialogs.  Nothing here calls GIMP: the
 * front-end hands in the layer through wp_ui_source and gets settings back,
 * so another host (GIMP 3) can reuse the dialogs as they are. */
#ifndef WP_UI_H
#define WP_UI_H

#include <gtk/gtk.h>

#include "jobs.h"
#include "models.h"

/* How the host keeps the windows the UI opens (a dialog, the progress
 * window) over its own: attach is called with each once it is realized,
 * before it is shown, so that a window manager places it from the start.
 * A host in this process sets the window transient for its GtkWindow;
 * GIMP, whose windows are in another process, does it its own way (GIMP 3:
 * gimp_window_set_transient; 2.10: wp_ui_place_over the GdkWindow of its
 * progress, in the adapter).  attach NULL: the window manager places them. */
typedef struct {
    void (*attach)(GtkWindow *win, void *data);
    void *data;
} wp_ui_host;

/* For an attach: makes the realized win transient for parent (a window of
 * another process, say) and centres it over parent, within the monitor's
 * work area, whether or not a window manager runs. */
void wp_ui_place_over(GtkWindow *win, GdkWindow *parent);

/* The layer a dialog previews. */
typedef struct {
    /* Reads the layer's colour planes [channels,h,w] at (x,y) into out,
     * values in [0,1]; returns 0, or -1 when the pixels cannot be read. */
    int (*fetch)(void *data, int x, int y, int w, int h, float *out);
    void *data;
    /* Heal: the selection's values [h,w] in [0,1] at (x,y), and its
     * bounding box in the layer (what the heal dialog previews). */
    int (*fetch_selection)(void *data, int x, int y, int w, int h, float *out);
    int sel_x, sel_y, sel_w, sel_h;
    int width, height;   /* layer size */
    int channels;        /* 1 or 3 */
    wp_ui_host host;
    /* The procedure: its title and parameters (Layer and Image > Upscale
     * differ); NULL: the kind's first. */
    const wpj_desc *job;
} wp_ui_source;

/* The help pages: help/<lang>/<procedure>.html and GIMP's map of them,
 * help/<lang>/gimp-help.xml, installed beside the plug-in's executable.
 * The host registers the folder with its help system under WP_HELP_DOMAIN;
 * the dialogs' Help button and F1 open the page.  Each returns a path to
 * g_free, or NULL when the pages are not installed. */
#define WP_HELP_DOMAIN "wavelet-prior-help"
char *wp_ui_help_dir(void);
char *wp_ui_help_page(const char *proc);

/* Sets up GTK (once); -1 with a message on stderr when there is no display. */
int wp_ui_init(void);

/* Each dialog edits s in place and returns 1 for OK, 0 for Cancel/Escape.
 * The sample dialog reads no pixels (fetch may be NULL): src's size is the
 * size it suggests (the image or selection) for a prior of no fixed size. */
int wp_ui_denoise_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src);
int wp_ui_upscale_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src);
/* sample receives the previewed sample when it was drawn with the chosen
 * settings (px NULL otherwise), so that OK need not draw it again. */
int wp_ui_sample_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src,
                        wpj_image *sample);

/* The heal dialog previews the whole job (the selection's box and its
 * context); result receives the unblended fill when it was computed with
 * the chosen settings (px NULL otherwise), so that OK need not fill again. */
int wp_ui_heal_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src,
                      wpj_image *result);

/* The live preview and what goes with it (the chosen model's description,
 * the time estimate), for a host that builds the dialog around them from
 * the procedure's own arguments (GIMP 3's GimpProcedureDialog).  The host
 * hands in its OK button (made insensitive while the model cannot be
 * used) and gets the settings the panel proposes: the model as the path
 * of the one shown, a sample's size for the chosen model.  src (its job
 * names the kind) and models must outlive the panel. */
typedef struct wp_ui_panel wp_ui_panel;
typedef struct {
    GtkWidget *ok;
    void (*propose)(void *data, const wpj_settings *s);
    void *data;
} wp_ui_panel_host;

wp_ui_panel *wp_ui_panel_new(const wpj_settings *s, const wpm_list *models,
                             const wp_ui_source *src, const wp_ui_panel_host *host);
/* Its widgets, to pack: the preview (with its zoom bar), the model's
 * description, the estimate. */
GtkWidget *wp_ui_panel_preview(wp_ui_panel *p);
GtkWidget *wp_ui_panel_model_info(wp_ui_panel *p);
GtkWidget *wp_ui_panel_estimate(wp_ui_panel *p);
/* Starts the previews once the widgets are packed. */
void wp_ui_panel_start(wp_ui_panel *p);
/* The host's widgets changed the settings: the preview follows. */
void wp_ui_panel_set(wp_ui_panel *p, const wpj_settings *s);
/* Stops the previews; on OK, sample (may be NULL) receives the sample or
 * fill previewed with the final settings, if any (as the dialogs do). */
void wp_ui_panel_free(wp_ui_panel *p, int ok, wpj_image *sample);

/* A small window with a progress bar and a Cancel button, shown while
 * the full job runs.  poll() is called about every 50 ms; it returns the
 * progress and sets *done when the job has finished. */
typedef struct {
    double (*poll)(void *data, int *done);
    void (*cancel)(void *data);
    void *data;
    const char *title;
    wp_ui_host host;
} wp_ui_progress;

/* Shows the window until poll() reports done; returns then. */
void wp_ui_progress_run(const wp_ui_progress *p);

#endif
