"""Where a guest's pointer lands: a point in the session view maps to the host's frame pixel
under it, with the frame drawn scaled into part of the view."""

from __future__ import annotations

import pytest

from anydesk_invite.core.screen import frame_point

# A 200x100 frame drawn at half size, 10 px from the view's left and 20 px from its top.
SHOWN = (10, 20, 100, 50)


@pytest.mark.parametrize(
    ("x", "y", "pixel"),
    [
        (10, 20, (0, 0)),  # the frame's top-left corner
        (10.4, 20.4, (0, 0)),  # still inside its first pixel
        (10.5, 20.5, (1, 1)),  # one view px = two frame px
        (60, 45, (100, 50)),  # the centre
        (109.99, 69.99, (199, 99)),  # the last pixel, never one past it
        (109.99, 20, (199, 0)),
        (10, 69.99, (0, 99)),
    ],
)
def test_a_point_inside_the_drawn_frame_maps_to_the_pixel_under_it(
    x: float, y: float, pixel: tuple[int, int]
) -> None:
    assert frame_point(x, y, SHOWN, 200, 100) == pixel


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (9.99, 30),  # left of the frame
        (110, 30),  # the right edge belongs to the margin
        (50, 19.99),  # above it
        (50, 70),  # the bottom edge belongs to the margin
        (0, 0),
        (500, 500),
    ],
)
def test_a_point_in_the_margin_around_the_frame_maps_to_nothing(x: float, y: float) -> None:
    assert frame_point(x, y, SHOWN, 200, 100) is None


def test_the_scale_may_differ_across_and_down() -> None:
    # A 100x200 frame squeezed into a 50x50 square: x counts double, y four times.
    assert frame_point(25, 25, (0, 0, 50, 50), 100, 200) == (50, 100)
    assert frame_point(49.9, 49.9, (0, 0, 50, 50), 100, 200) == (99, 199)


def test_a_frame_drawn_larger_than_it_is_rounds_down_to_the_pixel_under_the_point() -> None:
    # A 100x100 frame drawn three times its size: view px 0, 1, 2 are frame px 0.
    shown = (0, 0, 300, 300)
    assert frame_point(2.99, 2.99, shown, 100, 100) == (0, 0)
    assert frame_point(3, 3, shown, 100, 100) == (1, 1)
    assert frame_point(299.5, 299.5, shown, 100, 100) == (99, 99)


@pytest.mark.parametrize(
    ("shown", "width", "height"),
    [
        ((0, 0, 0, 50), 200, 100),  # nothing drawn across
        ((0, 0, 100, 0), 200, 100),  # nothing drawn down
        ((0, 0, -100, 50), 200, 100),
        ((0, 0, 100, 50), 0, 100),  # an empty frame
        ((0, 0, 100, 50), 200, 0),
    ],
)
def test_nothing_drawn_or_an_empty_frame_maps_no_point(
    shown: tuple[int, int, int, int], width: int, height: int
) -> None:
    assert frame_point(0, 0, shown, width, height) is None
    assert frame_point(1, 1, shown, width, height) is None


def test_a_view_one_pixel_wide_or_high_still_maps_the_point_under_it() -> None:
    # A 200x100 frame squeezed into one view pixel across (or down) is still drawn there.
    assert frame_point(10.5, 30, (10, 20, 1, 50), 200, 100) == (100, 20)
    assert frame_point(30, 20.5, (10, 20, 100, 1), 200, 100) == (40, 50)


def test_a_frame_one_pixel_wide_or_high_is_that_pixel_wherever_the_point_is() -> None:
    assert frame_point(109.9, 45, SHOWN, 1, 100) == (0, 50)
    assert frame_point(60, 69.9, SHOWN, 200, 1) == (100, 0)
