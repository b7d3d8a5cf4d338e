/* test_ui_place.c: the progress window opens centred over its parent and
 * transient for it, when the parent is a window of another client named
 * by its X11 id, as GIMP 2.10 names its image window (no window manager:
 * under xvfb-run).  Exit 77 without an X display. */
#include <X11/Xutil.h>
#include <gdk/gdkx.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>

#include "wp_ui.h"

static GtkWindow *placed;
static int ticks, failures;
static Window parent_xid;

static void attach(GtkWindow *win, void *data)
{
    placed = win;
    wp_ui_place_over(win, data);
}

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

static void check_placement(void)
{
    GdkWindow *own = gtk_widget_get_window(GTK_WIDGET(placed));
    GdkRectangle r;
    gdk_window_get_frame_extents(own, &r);
    int px = 300, py = 200, pw = 600, ph = 400; /* the parent, below */
    int dx = (r.x + r.width / 2) - (px + pw / 2), dy = (r.y + r.height / 2) - (py + ph / 2);
    printf("     progress window %dx%d+%d+%d; its centre is off by %d,%d\n", r.width, r.height, r.x,
           r.y, dx, dy);
    check(abs(dx) <= 2 && abs(dy) <= 2, "the progress window is centred over its parent");
    Window tf = 0;
    Display *x = gdk_x11_display_get_xdisplay(gdk_window_get_display(own));
    XGetTransientForHint(x, gdk_x11_window_get_xid(own), &tf);
    check(tf == parent_xid, "the progress window is transient for its parent");
}

static double poll(void *data, int *done)
{
    (void)data;
    if (++ticks == 10) /* half a second: mapped and configured */
        check_placement();
    *done = ticks >= 10;
    return ticks / 10.0;
}

static void cancel(void *data)
{
    (void)data;
}

int main(void)
{
    if (!gtk_init_check(NULL, NULL) || !GDK_IS_X11_DISPLAY(gdk_display_get_default())) {
        printf("SKIP: no X11 display\n");
        return 77;
    }
    /* The parent: ours here, but handed over by its X11 id as GIMP does. */
    GtkWidget *parent = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_default_size(GTK_WINDOW(parent), 600, 400);
    gtk_window_move(GTK_WINDOW(parent), 300, 200);
    gtk_widget_show(parent);
    while (gtk_events_pending())
        gtk_main_iteration();
    parent_xid = gdk_x11_window_get_xid(gtk_widget_get_window(parent));
    GdkWindow *foreign =
        gdk_x11_window_foreign_new_for_display(gdk_display_get_default(), parent_xid);
    wp_ui_progress p = {poll, cancel, NULL, "Sampling (test)", {attach, foreign}};
    wp_ui_progress_run(&p);
    check(placed != NULL, "the host placed the progress window");
    g_object_unref(foreign);
    gtk_widget_destroy(parent);
    return failures ? 1 : 0;
}
