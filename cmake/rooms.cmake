# The project's rooms: one folder, one static library, and the rooms below it that it uses.
# A room's files include the headers of its own folder and of the rooms it USES, nothing
# else of the project's; the test `rooms.include_only_what_they_use` checks every file.
#
#   fnft_room(<target> SOURCES <files...> [USES <rooms...>] [LIBS <libraries...>])
#
# USES links the rooms and allows their headers; LIBS are third-party libraries the room's
# headers expose (public); fnft_warnings applies to the room's own files only.
function(fnft_room target)
  cmake_parse_arguments(ROOM "" "" "SOURCES;USES;LIBS" ${ARGN})
  add_library(${target} STATIC ${ROOM_SOURCES})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${ROOM_USES} ${ROOM_LIBS} PRIVATE fnft_warnings)
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  set_property(GLOBAL APPEND PROPERTY FNFT_ROOMS ${target})
  set_property(GLOBAL PROPERTY FNFT_ROOM_${target}_FOLDER ${folder})
  set_property(GLOBAL PROPERTY FNFT_ROOM_${target}_USES ${ROOM_USES})
endfunction()

# Writes the rooms and what each may include for the checker, and adds its test. Called
# once every room is declared.
function(fnft_room_check)
  get_property(rooms GLOBAL PROPERTY FNFT_ROOMS)
  set(rules "set(ROOMS ${rooms})\n")
  foreach(room IN LISTS rooms)
    get_property(folder GLOBAL PROPERTY FNFT_ROOM_${room}_FOLDER)
    get_property(uses GLOBAL PROPERTY FNFT_ROOM_${room}_USES)
    set(allowed ${folder})
    foreach(used IN LISTS uses)
      get_property(used_folder GLOBAL PROPERTY FNFT_ROOM_${used}_FOLDER)
      list(APPEND allowed ${used_folder})
    endforeach()
    string(APPEND rules "set(ROOM_${room}_FOLDER ${folder})\n"
                        "set(ROOM_${room}_MAY_INCLUDE ${allowed})\n")
  endforeach()
  file(WRITE ${PROJECT_BINARY_DIR}/room_rules.cmake "${rules}")
  add_test(NAME rooms.include_only_what_they_use
           COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -DRULES=${PROJECT_BINARY_DIR}/room_rules.cmake
                   -P ${PROJECT_SOURCE_DIR}/cmake/check_room_includes.cmake)
  set_tests_properties(rooms.include_only_what_they_use PROPERTIES LABELS unit)
endfunction()
